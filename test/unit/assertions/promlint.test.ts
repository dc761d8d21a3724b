import { lintExposition, parseExposition } from "../../../assertions/promlint";

// An exposition that breaks each rule once, and what Debian's promtool 2.42 `check metrics` printed for it.
const BAD = [
  "# HELP foo_counter x",
  "# TYPE foo_counter counter",
  "foo_counter 1",
  "# TYPE bar_total gauge",
  "bar_total 2",
  "# HELP baz_ms x",
  "# TYPE baz_ms gauge",
  "baz_ms 3",
  "# HELP fooBar x",
  "# TYPE fooBar gauge",
  'fooBar{myLabel="a"} 1',
  "# HELP q_count x",
  "# TYPE q_count gauge",
  "q_count 1",
  "# HELP hh_milliseconds x",
  "# TYPE hh_milliseconds histogram",
  'hh_milliseconds_bucket{le="+Inf"} 1',
  "hh_milliseconds_sum 1",
  "hh_milliseconds_count 1",
  "# HELP x_gauge x",
  "# TYPE x_gauge gauge",
  "x_gauge 1",
  "# HELP a:b x",
  "# TYPE a:b gauge",
  "a:b 1",
  "",
].join("\n");

const PROMTOOL_SAID = `a:b metric names should not contain ':'
bar_total no help text
bar_total non-counter metrics should not have "_total" suffix
baz_ms metric names should not contain abbreviated units
fooBar label names should be written in 'snake_case' not 'camelCase'
fooBar metric names should be written in 'snake_case' not 'camelCase'
foo_counter counter metrics should have "_total" suffix
foo_counter metric name should not include type 'counter'
hh_milliseconds use base unit "seconds" instead of "milliseconds"
q_count non-histogram and non-summary metrics should not have "_count" suffix
x_gauge metric name should not include type 'gauge'`;

describe("promlint rules", () => {
  test("report exactly what promtool check metrics reports", () => {
    expect(
      lintExposition(BAD)
        .map((p) => `${p.metric} ${p.text}`)
        .sort(),
    ).toEqual(PROMTOOL_SAID.split("\n").sort());
  });

  test("a clean exposition has no problem", () => {
    const clean = [
      "# HELP http_server_requests_total Requests.",
      "# TYPE http_server_requests_total counter",
      'http_server_requests_total{route="/a",status_code="200"} 3',
      "# HELP rpc_duration_seconds Time.",
      "# TYPE rpc_duration_seconds histogram",
      'rpc_duration_seconds_bucket{le="0.1"} 1',
      'rpc_duration_seconds_bucket{le="+Inf"} 2',
      "rpc_duration_seconds_sum 0.3",
      "rpc_duration_seconds_count 2",
    ].join("\n");
    expect(lintExposition(clean)).toEqual([]);
    const [counter, histogram] = parseExposition(clean);
    expect(counter).toMatchObject({ name: "http_server_requests_total", type: "counter" });
    expect([...histogram!.sampleNames].sort()).toEqual([
      "rpc_duration_seconds_bucket",
      "rpc_duration_seconds_count",
      "rpc_duration_seconds_sum",
    ]);
  });
});
