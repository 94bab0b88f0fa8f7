// Gig thumbnails and seller avatars drawn locally as inline SVG strings: a gradient in
// the category's colour, one of four background patterns and a small "work sample"
// mock-up. No network images, no fonts beyond the page's own.

const esc = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function pattern(kind, hue) {
  const ink = `hsla(${hue}, 80%, 92%, 0.22)`;
  switch (kind) {
    case 0: // circles
      return `<circle cx="250" cy="30" r="70" fill="${ink}"/><circle cx="40" cy="150" r="46" fill="${ink}"/>`;
    case 1: // waves
      return `<path d="M0 120 Q60 90 120 120 T240 120 T360 120 V180 H0Z" fill="${ink}"/>
              <path d="M0 140 Q60 110 120 140 T240 140 T360 140 V180 H0Z" fill="${ink}"/>`;
    case 2: // diagonal stripes
      return Array.from({ length: 7 }, (_, i) =>
        `<rect x="${i * 56 - 60}" y="-40" width="18" height="280" fill="${ink}" transform="rotate(30 ${i * 56} 90)"/>`).join('');
    default: // dots grid
      return Array.from({ length: 24 }, (_, i) =>
        `<circle cx="${20 + (i % 8) * 40}" cy="${25 + Math.floor(i / 8) * 60}" r="5" fill="${ink}"/>`).join('');
  }
}

function mockup(category, hue) {
  const card = `fill="#fff" fill-opacity="0.94"`;
  const line = (x, y, w, o = 0.25) => `<rect x="${x}" y="${y}" width="${w}" height="7" rx="3.5" fill="hsl(${hue}, 35%, 35%)" fill-opacity="${o}"/>`;
  switch (category) {
    case 'logo':
      return `<circle cx="160" cy="82" r="42" ${card}/><text x="160" y="97" text-anchor="middle" font-size="40" font-weight="700" fill="hsl(${hue},60%,40%)">Ag</text>`;
    case 'video':
      return `<rect x="85" y="35" width="150" height="90" rx="10" ${card}/><path d="M148 62 L178 80 L148 98Z" fill="hsl(${hue},60%,45%)"/>`;
    case 'voice':
      return Array.from({ length: 13 }, (_, i) => {
        const h = 14 + Math.abs(Math.sin(i * 1.7)) * 60;
        return `<rect x="${92 + i * 11}" y="${82 - h / 2}" width="6" height="${h}" rx="3" fill="#fff" fill-opacity="0.9"/>`;
      }).join('');
    case 'data':
      return `<rect x="80" y="30" width="160" height="104" rx="10" ${card}/>` +
        [40, 62, 34, 78, 55].map((h, i) => `<rect x="${100 + i * 26}" y="${122 - h}" width="16" height="${h}" rx="3" fill="hsl(${hue},60%,${45 + i * 4}%)"/>`).join('');
    case 'apps':
      return `<rect x="128" y="22" width="64" height="118" rx="12" ${card}/>${line(140, 44, 40, 0.5)}${line(140, 58, 30)}${line(140, 72, 36)}<rect x="140" y="92" width="40" height="26" rx="6" fill="hsl(${hue},60%,50%)"/>`;
    case 'illustration':
      return `<rect x="95" y="30" width="130" height="100" rx="8" ${card}/><path d="M105 120 L140 75 L165 105 L182 88 L215 120Z" fill="hsl(${hue},55%,55%)"/><circle cx="195" cy="55" r="10" fill="hsl(${(hue + 40) % 360},80%,60%)"/>`;
    default:
      return `<rect x="70" y="32" width="180" height="100" rx="10" ${card}/>${line(86, 50, 90, 0.55)}${line(86, 68, 148)}${line(86, 84, 130)}${line(86, 100, 140)}<rect x="86" y="114" width="50" height="10" rx="5" fill="hsl(${hue},60%,50%)"/>`;
  }
}

/** The card's thumbnail (320 x 180 viewBox, scales to the card's width). */
export function thumbnailSvg(gig) {
  const { hue } = gig;
  return `<svg class="thumb" viewBox="0 0 320 180" preserveAspectRatio="xMidYMid slice" role="img" aria-label="${esc(gig.categoryName)} sample">
  <defs><linearGradient id="g-${gig.id}" x1="0" y1="0" x2="1" y2="1">
    <stop offset="0" stop-color="hsl(${hue}, 70%, 58%)"/><stop offset="1" stop-color="hsl(${(hue + 35) % 360}, 65%, 42%)"/>
  </linearGradient></defs>
  <rect width="320" height="180" fill="url(#g-${gig.id})"/>
  ${pattern(gig.pattern, hue)}
  ${mockup(gig.category, hue)}
</svg>`;
}

/** A round avatar with the seller's initial. */
export function avatarSvg(gig) {
  const initial = esc(gig.seller[0].toUpperCase());
  return `<svg class="avatar" viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="12" fill="hsl(${gig.sellerHue}, 55%, 50%)"/><text x="12" y="16.5" text-anchor="middle" font-size="12" font-weight="700" fill="#fff">${initial}</text></svg>`;
}

export { esc as escapeHtml };
