// Packages the extension with @vscode/vsce from a small staging folder (extension/out/stage).
//
// vsce walks every file under the package root before applying `files`; in this repository
// that includes .venv/, .work/ (code-server) and node_modules/, which costs ~40 s of glob
// matching. Staging only what ships (the `files` list + production dependencies) makes it ~2 s.
//
// usage: node extension/scripts/package-vsix.mjs OUT.vsix
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "..");
const stage = path.join(root, "extension", "out", "stage");
const out = path.resolve(process.argv[2] ?? "tuneline.vsix");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });

/** Copy a file or folder (recursively) from the repo into the stage, same relative path. */
function copy(rel) {
  const from = path.join(root, rel);
  if (!fs.existsSync(from)) {
    throw new Error(`missing ${rel} (run the build first)`);
  }
  fs.cpSync(from, path.join(stage, rel), { recursive: true, dereference: true });
}

// Files named in package.json "files" (simple `dir/*.ext` and `dir/**` patterns).
for (const pattern of pkg.files) {
  if (pattern.startsWith("node_modules/")) {
    continue;
  }
  const dir = pattern.replace(/\/?\*\*.*$/, "").replace(/\/[^/]*\*[^/]*$/, "");
  const ext = /\*(\.[\w]+)$/.exec(pattern)?.[1];
  if (!pattern.includes("*")) {
    copy(pattern);
    continue;
  }
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) {
    throw new Error(`missing ${dir} (run the build first)`);
  }
  if (pattern.endsWith("/**")) {
    copy(dir);
  } else {
    for (const name of fs.readdirSync(abs)) {
      if (!ext || name.endsWith(ext)) {
        if (fs.statSync(path.join(abs, name)).isFile()) {
          copy(path.join(dir, name));
        }
      }
    }
  }
}

// Production dependencies, as npm resolved them.
const prod = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: root, encoding: "utf8" })
  .split("\n")
  .map((p) => p.trim())
  .filter((p) => p && p !== root)
  .map((p) => path.relative(root, p));
// Type declarations, source maps and browser builds are not needed by a Node extension host.
const unneeded = (src) => /\.d\.ts$|\.map$|[\\/]lib[\\/]browser([\\/]|$)|[\\/]browser\.js$/.test(src);
for (const rel of prod) {
  fs.cpSync(path.join(root, rel), path.join(stage, rel), { recursive: true, dereference: true, filter: (src) => !unneeded(src) });
}
fs.copyFileSync(path.join(root, "package-lock.json"), path.join(stage, "package-lock.json"));

const vsce = path.join(root, "node_modules", "@vscode", "vsce", "vsce");
execFileSync(
  process.execPath,
  [vsce, "package", "--skip-license", "--allow-missing-repository", "--readme-path", "extension/README.md", "-o", out],
  { cwd: stage, stdio: "inherit" },
);
