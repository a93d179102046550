/*
 * The ceiling Crier is measured against: a bare nodemailer pool, in a process of its own,
 * sending the message Crier prepared (read from argv[2], a JSON file) to N addresses through the
 * same number of connections, to the same sink. It reports { start } just before the first send.
 */
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';

const [file, port, count, connections] = process.argv.slice(2);
const message = JSON.parse(readFileSync(file, 'utf8'));
const transport = nodemailer.createTransport({ pool: true, host: '127.0.0.1', port: Number(port), secure: false, ignoreTLS: true, maxConnections: Number(connections), maxMessages: Infinity });
process.send!({ start: Date.now() });
const before = process.cpuUsage();
const sends: Promise<unknown>[] = [];
for (let i = 0; i < Number(count); i++) {
  sends.push(transport.sendMail({ ...message, to: { name: `Recipient ${i}`, address: `r${i}@bench.example.org` }, messageId: `<bare.${i}@bench.example.org>` }));
}
await Promise.all(sends);
transport.close();
const used = process.cpuUsage(before);
process.send!({ sent: sends.length, cpuMs: (used.user + used.system) / 1000, maxRSS: process.resourceUsage().maxRSS });
process.disconnect();
