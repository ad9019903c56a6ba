#!/usr/bin/env node
// Local SQS for Whirlpool's tests and local stack: the local-aws-sqs emulator
// (JSON and Query protocols) on 127.0.0.1.
//
//   node scripts/sqs/server.js PORT [QUEUE ...]
//
// PORT 0 picks a free port. Each QUEUE is created at start; a name ending in
// .fifo creates a FIFO queue (FifoQueue "true"; deduplication ids must be
// given, ContentBasedDeduplication stays "false" as in a default FIFO queue).
// Queue URLs are http://127.0.0.1:PORT/123456789012/NAME.
//
// Long polls answer as SQS answers them: as soon as at least one message is
// available, not when the wait ends. (local-aws-sqs waits until it holds
// MaxNumberOfMessages messages or the wait is over; this server polls it
// with WaitTimeSeconds 0 instead, every POLL_MS (50 ms), until a message comes or
// the wait is over.)
//
// Once listening it prints one JSON line, {"port":N}, on stdout. It exits
// when its standard input closes, so a test's emulator dies with the test
// process; run it with `< /dev/null` closed only if you mean it to stop.
"use strict";

const http = require("http");
const { Readable } = require("stream");
const { createRequestHandler } = require("local-aws-sqs");

const POLL_MS = 50; // four idle long polls cost about 5% of a core (8% at 20 ms)

function usage(msg) {
  process.stderr.write(`server.js: ${msg}\nusage: node server.js PORT [QUEUE ...]\n`);
  process.exit(2);
}

const [portArg, ...names] = process.argv.slice(2);
if (portArg === undefined || !/^\d+$/.test(portArg) || Number(portArg) > 65535) {
  usage(`PORT must be a number from 0 to 65535, got ${JSON.stringify(portArg)}`);
}

const queues = names.map((QueueName) => {
  if (!/^[A-Za-z0-9_-]{1,75}(\.fifo)?$/.test(QueueName)) {
    usage(`invalid queue name ${JSON.stringify(QueueName)} (1-80 of A-Z a-z 0-9 _ -, optionally ending in .fifo)`);
  }
  return QueueName.endsWith(".fifo")
    ? { QueueName, Attributes: { FifoQueue: "true", ContentBasedDeduplication: "false" } }
    : { QueueName };
});

// readAll reads a request's body.
function readAll(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// replay is a request the emulator's handler can read again: body is
// already read from req.
function replay(req, body) {
  const r = Readable.from(body.length ? [body] : []);
  r.headers = req.headers;
  r.method = req.method;
  r.url = req.url;
  return r;
}

// call runs the emulator's handler on a request and resolves with its answer.
function call(handler, req, body) {
  return new Promise((resolve) => {
    const headers = {};
    const chunks = [];
    const res = {
      statusCode: 200,
      headersSent: false,
      setHeader(k, v) { headers[k.toLowerCase()] = v; },
      getHeader(k) { return headers[k.toLowerCase()]; },
      removeHeader(k) { delete headers[k.toLowerCase()]; },
      writeHead(status, h) {
        this.statusCode = status;
        for (const k of Object.keys(h || {})) headers[k.toLowerCase()] = h[k];
        return this;
      },
      write(c) { if (c != null) chunks.push(Buffer.from(c)); return true; },
      end(c) {
        if (c != null) chunks.push(Buffer.from(c));
        resolve({ status: this.statusCode, headers, body: Buffer.concat(chunks) });
      },
      on() { return this; },
      once() { return this; },
    };
    handler(replay(req, body), res);
  });
}

// receive reads a ReceiveMessage request (JSON or Query protocol): its
// WaitTimeSeconds (0 for any other request), the request as the emulator
// should see it, and the same asking for no wait. SQS's newer
// MessageSystemAttributeNames (SentTimestamp, ...) are passed on as the
// AttributeNames local-aws-sqs reads.
function receive(req, body) {
  const target = req.headers["x-amz-target"] || "";
  if (target.endsWith(".ReceiveMessage")) {
    let b;
    try { b = JSON.parse(body.toString() || "{}"); } catch (e) { return [0, body]; }
    if (Array.isArray(b.MessageSystemAttributeNames)) {
      b.AttributeNames = [...new Set([...(b.AttributeNames || []), ...b.MessageSystemAttributeNames])];
    }
    const wait = Number(b.WaitTimeSeconds || 0);
    const asked = Buffer.from(JSON.stringify(b));
    if (!(wait > 0 && wait <= 20)) return [0, asked];
    return [wait, asked, Buffer.from(JSON.stringify({ ...b, WaitTimeSeconds: 0 }))];
  }
  if (!target) {
    const q = new URLSearchParams(body.toString());
    if (q.get("Action") !== "ReceiveMessage") return [0, body];
    let n = 1;
    while (q.has(`AttributeName.${n}`)) n++;
    for (let i = 1; q.has(`MessageSystemAttributeName.${i}`); i++) {
      q.set(`AttributeName.${n++}`, q.get(`MessageSystemAttributeName.${i}`));
    }
    const wait = Number(q.get("WaitTimeSeconds") || 0);
    const asked = Buffer.from(q.toString());
    if (!(wait > 0 && wait <= 20)) return [0, asked];
    q.set("WaitTimeSeconds", "0");
    return [wait, asked, Buffer.from(q.toString())];
  }
  return [0, body];
}

const hasMessages = (answer) => answer.status === 200 && /"Messages"\s*:\s*\[\s*\{|<Message>/.test(answer.body.toString());

(async () => {
  const { service, requestHandler } = createRequestHandler({
    port: Number(portArg),
    hostname: "127.0.0.1",
    queues,
    // Tests create and delete queues freely; AWS's 60-second wait before a
    // deleted name can be reused only gets in the way here.
    emulateQueueCreationLifecycle: false,
  });
  const server = http.createServer(async (req, res) => {
    try {
      const body = await readAll(req);
      const [wait, asked, noWait] = receive(req, body);
      if (!wait) {
        requestHandler(replay(req, asked), res);
        return;
      }
      let gone = false;
      res.on("close", () => { gone = true; });
      const deadline = Date.now() + wait * 1000;
      let answer = await call(requestHandler, req, noWait);
      while (!hasMessages(answer) && Date.now() < deadline && !gone) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        answer = await call(requestHandler, req, noWait);
      }
      if (gone) return;
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(portArg), "127.0.0.1", resolve);
  });
  const addr = server.address();
  // Queue URLs carry the port actually listened on (PORT may be 0).
  service.PORT = addr.port;
  process.stdout.write(JSON.stringify({ port: addr.port }) + "\n");

  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
})().catch((err) => {
  process.stderr.write(`server.js: cannot start: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
