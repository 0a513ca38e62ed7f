import { describe, expect, it } from 'vitest';
import { firstLoadAssets, verdict } from '../../bench/support/first-load.js';

describe('the console bundle benchmark: what counts as the first load', () => {
  it('is what index.html references: the entry script, stylesheets and preloaded chunks, once each, never foreign URLs', () => {
    const html = `<!doctype html><html><head>
      <script type="module" crossorigin src="/assets/index-A.js"></script>
      <link rel="modulepreload" crossorigin href="/assets/vendor-B.js">
      <link rel="stylesheet" crossorigin href="/assets/index-C.css">
      <link rel="icon" href="/favicon.svg">
      <script src="https://cdn.example/x.js"></script>
      <link rel="modulepreload" href="/assets/vendor-B.js">
    </head><body><div id="root"></div></body></html>`;
    expect(firstLoadAssets(html)).toEqual(['assets/index-A.js', 'assets/vendor-B.js', 'assets/index-C.css']);
  });

  it('says whether the gzipped JavaScript is within the target', () => {
    expect(verdict(125_000, 250_000)).toBe('within (50 % of target)');
    expect(verdict(250_001, 250_000)).toMatch(/^OVER by 1 bytes/);
  });
});
