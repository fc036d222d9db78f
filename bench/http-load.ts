/**
 * An HTTP load generator in its own process (autocannon), so that the load
 * does not share a heap or an event loop with anything else. Prints the
 * average requests per second.
 */
import autocannon from "autocannon";

const [url, secondsText, connectionsText, requestsJson] = process.argv.slice(2);
const requests = JSON.parse(requestsJson ?? "[]") as autocannon.Request[];
const connections = Number(connectionsText);
await autocannon({ url: url!, requests, connections, duration: 1 });
const r = await autocannon({ url: url!, requests, connections, duration: Number(secondsText) });
process.stdout.write(`${JSON.stringify({ perSecond: r.requests.average, non2xx: r.non2xx, errors: r.errors })}\n`);
