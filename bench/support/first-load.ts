/**
 * The assets a browser fetches on the console's first load: what its index.html references
 * (the entry script, stylesheets, and the chunks Vite asks it to preload). Lazy chunks are not among them.
 */
export function firstLoadAssets(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/<(script|link)\b([^>]*)>/gi)) {
    const attrs = m[2] as string;
    const src = /\b(?:src|href)\s*=\s*"([^"]+)"/i.exec(attrs)?.[1];
    if (!src || /^(?:[a-z]+:)?\/\//i.test(src)) continue; // nothing from elsewhere is ours to count (the CSP forbids it anyway)
    const isScript = (m[1] as string).toLowerCase() === 'script';
    const rel = /\brel\s*=\s*"([^"]+)"/i.exec(attrs)?.[1]?.toLowerCase();
    if (isScript || rel === 'stylesheet' || rel === 'modulepreload') found.push(src.replace(/^\//, ''));
  }
  return [...new Set(found)];
}

/** The first-load verdict against a gzipped-JavaScript budget in bytes. */
export function verdict(gzippedJs: number, budget: number): string {
  return gzippedJs <= budget ? `within (${Math.round((gzippedJs / budget) * 100)} % of target)` : `OVER by ${gzippedJs - budget} bytes: split routes with React.lazy`;
}
