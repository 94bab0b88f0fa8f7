// The demo's gig catalogue: a few hundred gigs generated from a seeded PRNG, so every
// visitor (and every test) sees the same ids, titles, sellers, prices and ratings. The
// marketplace renders it, the dashboard uses it to put titles next to gig ids. It owns
// data only; search() is the "search backend".

export const CATEGORIES = [
  { slug: 'logo', name: 'Logo Design', hue: 12, things: ['minimalist logo', 'mascot logo', 'brand identity kit', 'vintage badge logo', 'monogram'] },
  { slug: 'web', name: 'Web Development', hue: 210, things: ['WordPress website', 'Shopify store', 'landing page', 'React web app', 'Webflow site'] },
  { slug: 'video', name: 'Video Editing', hue: 280, things: ['YouTube video', 'wedding film', 'TikTok reel', 'product ad', 'podcast video'] },
  { slug: 'voice', name: 'Voice Over', hue: 330, things: ['British voice over', 'audiobook narration', 'explainer voice over', 'IVR greeting', 'character voice'] },
  { slug: 'translate', name: 'Translation', hue: 160, things: ['English to Spanish translation', 'German localisation', 'Japanese subtitles', 'legal translation', 'app localisation'] },
  { slug: 'seo', name: 'SEO', hue: 95, things: ['SEO audit', 'backlink plan', 'keyword research', 'local SEO setup', 'technical SEO fix'] },
  { slug: 'illustration', name: 'Illustration', hue: 40, things: ['children book illustration', 'portrait drawing', 'comic page', 'pet portrait', 'fantasy map'] },
  { slug: 'apps', name: 'Mobile Apps', hue: 190, things: ['Flutter app', 'iOS app', 'Android app fix', 'app UI design', 'React Native app'] },
  { slug: 'data', name: 'Data Analysis', hue: 240, things: ['Excel dashboard', 'Python data analysis', 'Power BI report', 'SQL query tuning', 'survey analysis'] },
  { slug: 'writing', name: 'Copywriting', hue: 0, things: ['product description', 'blog post', 'sales page copy', 'email sequence', 'LinkedIn profile'] },
];

const VERBS = ['design', 'build', 'create', 'craft', 'deliver', 'make', 'produce', 'polish'];
const QUALIFIERS = ['a professional', 'a modern', 'an eye-catching', 'a clean', 'a premium', 'a fast', 'a unique', 'your'];
const SUFFIXES = ['in 24 hours', 'with unlimited revisions', 'that converts', 'for your business', 'from scratch', 'with source files', '', ''];
const FIRST = ['Ana', 'Bilal', 'Chen', 'Dara', 'Emeka', 'Fatima', 'Goran', 'Hana', 'Ivan', 'Jade', 'Kofi', 'Lina', 'Mateo', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tomas', 'Uma', 'Viktor', 'Wen', 'Yara', 'Zane'];
const LAST = ['studio', 'designs', 'dev', 'works', 'media', 'lab', 'pro', 'creative', 'hq', 'craft'];
const LEVELS = ['New seller', 'Level 1', 'Level 2', 'Top Rated'];
export const GIG_COUNT = 360;

/** mulberry32: a small, fast, well-distributed 32-bit PRNG. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds the catalogue; same seed, same gigs. */
export function buildCatalogue(seed = 20261128, count = GIG_COUNT) {
  const random = mulberry32(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const sellers = Array.from({ length: 90 }, (_, i) => ({
    name: `${pick(FIRST).toLowerCase()}_${pick(LAST)}${i % 7 === 0 ? '' : Math.floor(random() * 90 + 10)}`,
    level: LEVELS[Math.min(3, Math.floor(random() * random() * 5))],
    hue: Math.floor(random() * 360),
  }));
  const gigs = [];
  for (let i = 0; i < count; i++) {
    const category = pick(CATEGORIES);
    const seller = pick(sellers);
    const suffix = pick(SUFFIXES);
    const title = `I will ${pick(VERBS)} ${pick(QUALIFIERS)} ${pick(category.things)}${suffix ? ' ' + suffix : ''}`;
    const rating = Math.round((4 + random() * random() * 1.0 + (random() < 0.5 ? 0 : 0.4)) * 10) / 10;
    gigs.push({
      id: `gig-${1001 + i}`,
      title,
      category: category.slug,
      categoryName: category.name,
      hue: (category.hue + Math.floor(random() * 40) - 20 + 360) % 360,
      seller: seller.name,
      sellerLevel: seller.level,
      sellerHue: seller.hue,
      price: [5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 250, 400][Math.floor(random() * random() * 13)],
      rating: Math.min(5, rating),
      reviews: Math.floor(random() * random() * 2400),
      pattern: Math.floor(random() * 4),
      // Relevance for the default sort: a stable score mixing rating, reviews and chance.
      score: random() + Math.min(5, rating) / 5 + Math.log10(1 + Math.floor(random() * 1000)) / 6,
    });
  }
  return gigs;
}

/**
 * The "search backend": gigs matching every word of `query` (in title, seller or
 * category) within `category` ('' = all), best first.
 */
export function search(gigs, { query = '', category = '' } = {}) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return gigs
    .filter((gig) => !category || gig.category === category)
    .filter((gig) => {
      const text = `${gig.title} ${gig.seller} ${gig.categoryName}`.toLowerCase();
      return words.every((word) => text.includes(word));
    })
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}
