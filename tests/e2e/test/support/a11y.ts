import axe from 'axe-core';
import type { Page } from 'playwright-core';

export interface Violation {
  id: string;
  impact: string | null | undefined;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core in the page (evaluated over the DevTools protocol, so the app's CSP needs no
 * exception) against WCAG 2.x A/AA and best practices, and returns the serious and critical findings.
 */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

declare global {
  interface Window {
    axe: typeof axe;
  }
}

/**
 * The WCAG contrast ratio between an element's text (or its placeholder's) and the first opaque
 * background behind it, as the browser computed them.
 */
export async function contrastOf(
  page: Page,
  selector: string,
  part: 'text' | 'placeholder',
): Promise<number> {
  return page
    .locator(selector)
    .first()
    .evaluate((node, which) => {
      const rgb = (color: string): [number, number, number, number] => {
        const m = /rgba?\(([^)]+)\)/.exec(color);
        if (!m?.[1]) throw new Error(`unexpected colour ${color}`);
        const [r = 0, g = 0, b = 0, a = 1] = m[1]
          .split(/[ ,/]+/)
          .filter(Boolean)
          .map(Number);
        return [r, g, b, a];
      };
      const luminance = ([r, g, b]: [number, number, number, number]) => {
        const channel = (c: number) => {
          const s = c / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
      };
      const fg = rgb(getComputedStyle(node, which === 'placeholder' ? '::placeholder' : null).color);
      let bg: [number, number, number, number] = [255, 255, 255, 1];
      for (let at: Element | null = node; at; at = at.parentElement) {
        const candidate = rgb(getComputedStyle(at).backgroundColor);
        if (candidate[3] === 1) {
          bg = candidate;
          break;
        }
      }
      // A translucent foreground is blended over its background first.
      const blended: [number, number, number, number] = [
        fg[0] * fg[3] + bg[0] * (1 - fg[3]),
        fg[1] * fg[3] + bg[1] * (1 - fg[3]),
        fg[2] * fg[3] + bg[2] * (1 - fg[3]),
        1,
      ];
      const [light, dark] = [luminance(blended), luminance(bg)].sort((a, b) => b - a) as [number, number];
      return (light + 0.05) / (dark + 0.05);
    }, part);
}
