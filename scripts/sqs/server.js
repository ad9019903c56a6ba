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
// Once listening it prints one JSON line, {"port":N}, on stdout. It exits
// when its standard input closes, so a test's emulator dies with the test
// process; run it with `< /dev/null` closed only if you mean it to stop.
"use strict";

const { createSqsServer } = require("local-aws-sqs");

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

(async () => {
  const server = await createSqsServer({
    port: Number(portArg),
    hostname: "127.0.0.1",
    queues,
    // Tests create and delete queues freely; AWS's 60-second wait before a
    // deleted name can be reused only gets in the way here.
    emulateQueueCreationLifecycle: false,
  });
  const addr = server.address();
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
