// HTTP load generator, run as a child process so client and server do not share one event loop:
//   tsx bench/support/load.ts <url> <requests> <concurrency>
// Keep-alive node:http requests; prints {"rps": N, "errors": N} as JSON on stdout.
import http from 'node:http';

const [url, total = '20000', conc = '32'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(conc) });
let sent = 0;
let errors = 0;

function one(): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get(url!, { agent }, (res) => {
      if (res.statusCode !== 200) errors++;
      res.on('data', () => {});
      res.on('end', resolve);
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
  });
}

async function worker(): Promise<void> {
  while (sent < Number(total)) {
    sent++;
    await one();
  }
}

const start = process.hrtime.bigint();
await Promise.all(Array.from({ length: Number(conc) }, worker));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
agent.destroy();
process.stdout.write(JSON.stringify({ rps: Number(total) / seconds, errors }) + '\n');
