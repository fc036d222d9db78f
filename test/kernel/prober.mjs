// A pod's (or a node's) stand-in on the real kernel: runs inside one network namespace,
// serves TCP and UDP on the ports given, and answers probe requests read as
// JSON lines on stdin with JSON lines on stdout.
//   {"id":1,"protocol":"TCP","host":"10.244.1.11","port":80,"timeoutMs":1500}
//   -> {"id":1,"ok":true} | {"id":1,"ok":false,"error":"ECONNREFUSED"|"timeout"|...}
// Anything but an answer within timeoutMs is blocked: a REJECT is seen as
// ECONNREFUSED, a DROP only as the timeout, over TCP and UDP alike.
// Plain JavaScript so that it starts fast without a TypeScript loader.
import dgram from "node:dgram";
import net from "node:net";
import readline from "node:readline";

// Arguments: the ports, and `--address=IP` to serve on that address alone. A
// node serves on its own address: a datagram answered from 0.0.0.0 leaves from
// the address of the link towards the pod (the gateway's), and the pod's
// connected socket would not take it as the answer.
const args = process.argv.slice(2);
const address = args.find((a) => a.startsWith("--address="))?.slice("--address=".length) ?? "0.0.0.0";
const ports = args.filter((a) => !a.startsWith("--")).map(Number);
let listening = 0;
const ready = () => {
  if (++listening === ports.length * 2) process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
};

for (const port of ports) {
  const tcp = net.createServer((sock) => {
    sock.on("error", () => {});
    sock.end("pong\n");
  });
  tcp.listen(port, address, ready);
  const udp = dgram.createSocket("udp4");
  udp.on("message", (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  udp.on("error", () => {});
  udp.bind(port, address, ready);
}

// Each probe from a distinct source port: a datagram that reused the tuple of an
// earlier allowed exchange would match its conntrack entry and pass as a reply.
let nextPort = 20000;
const sourcePort = () => {
  nextPort = nextPort >= 60000 ? 20000 : nextPort + 1;
  return nextPort;
};

function probeTcp(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, localPort: sourcePort() });
    const done = (r) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: "timeout" }), timeoutMs);
    sock.on("connect", () => done({ ok: true }));
    sock.on("error", (e) => done({ ok: false, error: e.code ?? e.message }));
  });
}

function probeUdp(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    const done = (r) => {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: "timeout" }), timeoutMs);
    sock.on("message", () => done({ ok: true }));
    sock.on("error", (e) => done({ ok: false, error: e.code ?? e.message }));
    sock.bind(sourcePort(), () => sock.connect(port, host, () => sock.send("ping")));
  });
}

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const req = JSON.parse(line);
  const r = req.protocol === "UDP" ? await probeUdp(req.host, req.port, req.timeoutMs) : await probeTcp(req.host, req.port, req.timeoutMs);
  process.stdout.write(`${JSON.stringify({ id: req.id, ...r })}\n`);
});
process.stdin.on("end", () => process.exit(0));
