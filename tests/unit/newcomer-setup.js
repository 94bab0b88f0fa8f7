// What newcomer.test.js and newcomer-calls.test.js share: a console that records its
// warnings, and the ids of the impressions a fake network received.

export const recordingConsole = () => {
  const warnings = [];
  return { warnings, console: { warn: (...args) => warnings.push(args.join(' ')) } };
};
export const impressions = (transport) => transport.bodies.flatMap((b) => JSON.parse(b).ev).filter((e) => e.e === 'imp').map((e) => e.id);
