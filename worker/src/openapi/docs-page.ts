/** `/api/docs`: the OpenAPI document as one readable page, with no script or asset from elsewhere. */
import { openApiDocument } from "./document.ts";

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const block = (v: unknown) => `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;

export function docsPage(): string {
  const doc = openApiDocument() as { paths: Record<string, Record<string, any>>; info: { title: string; description: string } };
  const sections: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const auth = (op.security as Record<string, unknown>[]).map((s) => Object.keys(s).join(" + ")).join(" or ") || "none";
      sections.push(`<section><h2><span class="m">${method.toUpperCase()}</span> ${esc(path)}</h2><p>${esc(op.summary)}</p><p class="auth">Auth: ${esc(auth)}</p>
${op.parameters ? `<h3>Parameters</h3>${block(op.parameters)}` : ""}${op.requestBody ? `<h3>Body</h3>${block(op.requestBody.content["application/json"].schema)}` : ""}
<h3>Responses</h3>${Object.entries(op.responses as Record<string, any>)
        .map(
          ([status, r]) =>
            `<details><summary>${status} ${esc(r.description)}</summary>${r.content?.["application/json"] ? block(r.content["application/json"].schema) : ""}</details>`,
        )
        .join("")}</section>`);
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(doc.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1f;background:#fff}h2{font-size:1.05rem;margin:0}section{border-top:1px solid #ccc;padding:1rem 0}.m{display:inline-block;min-width:4.5rem;font-family:monospace;color:#0b4f9c}.auth{color:#444}pre{background:#f3f3f6;padding:.6rem;overflow:auto;font-size:12px}@media (prefers-color-scheme:dark){body{background:#121216;color:#e8e8ee}.m{color:#8ab8ff}.auth{color:#bbb}pre{background:#1f1f26}}</style></head>
<body><h1>${esc(doc.info.title)} API</h1><p>${esc(doc.info.description)} Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>.</p>${sections.join("\n")}</body></html>`;
}
