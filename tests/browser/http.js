// The browser suite's servers' shared plumbing: listening on 127.0.0.1 (port 0, or a
// given port to come back on), the sockets a server holds, and closing a server with
// every one of them (so a collector that goes down refuses connections at once).

export function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

/** The set of a server's open sockets, kept up to date. */
export function track(server) {
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

/** Closes a server and every socket it still holds. */
export function closeHard(server, sockets) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  });
}
