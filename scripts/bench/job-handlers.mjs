// Handlers for scripts/bench-jobs.ts. `units` loops over `payload.units` units, reporting progress on every unit
// when `payload.report` is true (the cost measured) and nothing otherwise; `quick` returns at once, as an ordinary
// handler (`plain`) and as an isolated one (`isolated`, run in a child process per item).
const quick = () => 'ok';

export default [
  {
    name: 'units',
    types: ['bench.units'],
    handle(item, ctx) {
      const { units, report } = item.payload;
      let sum = 0;
      for (let i = 1; i <= units; i++) {
        sum += i;
        if (report) ctx.progress(i, units);
      }
      return sum;
    },
  },
  { name: 'plain', types: ['bench.plain'], handle: quick },
  { name: 'isolated', types: ['bench.isolated'], isolated: true, module: import.meta.url, handle: quick },
];
