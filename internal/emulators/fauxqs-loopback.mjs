// fauxqs-loopback.mjs starts the fauxqs SQS/SNS emulator bound to 127.0.0.1 only.
//
// fauxqs 2.4 always listens on 0.0.0.0. payhook's servers bind loopback only, so this
// launcher rewrites that one listen call's host before fauxqs starts. Configuration is
// fauxqs's own: FAUXQS_PORT, FAUXQS_DEFAULT_REGION, FAUXQS_LOGGER, and (as its server.js
// reads them) FAUXQS_DATA_DIR with FAUXQS_PERSISTENCE=true for SQLite persistence.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const opts = args[0];
  if (opts && typeof opts === "object" && (opts.host === "0.0.0.0" || opts.host === "::" || opts.host === undefined)) {
    args[0] = { ...opts, host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};

const { startFauxqs } = await import("fauxqs");
const dataDir = process.env.FAUXQS_PERSISTENCE === "true" ? process.env.FAUXQS_DATA_DIR : undefined;
const server = await startFauxqs({ logger: process.env.FAUXQS_LOGGER === "true", ...(dataDir ? { dataDir } : {}) });
console.log(`fauxqs listening on 127.0.0.1:${server.port}`);
const stop = async () => { await server.stop?.(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
