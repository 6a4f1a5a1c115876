// A node:test reporter that counts what ran, from the runner's own events, for
// test/run-tests.ts to judge the run by (never by parsing another reporter's text).
// It writes one JSON line: { tests, pass, fail, cancelled, skipped, todo }.
export default async function* countReporter(source) {
  const counts = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue; // a describe block, not a test
    counts.tests++;
    if (event.data.skip) counts.skipped++;
    else if (event.data.todo) counts.todo++;
    else if (event.type === 'test:pass') counts.pass++;
    else if (event.data.details?.error?.failureType === 'cancelledByParent') counts.cancelled++;
    else counts.fail++;
  }
  yield `${JSON.stringify(counts)}\n`;
}
