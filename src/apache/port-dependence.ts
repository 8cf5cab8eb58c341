import { renderTemplate } from './template-render';

/** A template line whose rendered text changes with the port: every deploy rewrites it. */
export interface PortDependentLine {
  /** 1-based line number in the template. */
  line: number;
  text: string;
}

/**
 * The lines of `template` that render differently for two ports (`varsA`, `varsB`: the same
 * variables but the port). Rendering keeps lines apart (no variable holds a newline), so line N of
 * the output is line N of the template. A vhost with such a line changes on every deploy, and a
 * changed vhost costs an Apache reload.
 */
export function portDependentLines(template: string, varsA: Record<string, string>, varsB: Record<string, string>): PortDependentLine[] {
  const a = renderTemplate(template, varsA).split('\n');
  const b = renderTemplate(template, varsB).split('\n');
  return template
    .split('\n')
    .map((text, i) => ({ line: i + 1, text: text.trim() }))
    .filter((_, i) => a[i] !== b[i]);
}

/**
 * What a deploy says, every time, when the app's templates write the port into a vhost: each
 * line to change, and why (a reload per deploy stalls or resets other apps' requests).
 */
export function portLineWarnings(lines: { template: string; line: number; text: string }[]): string[] {
  if (lines.length === 0) return [];
  return [
    ...lines.map((l) => `       ! ${l.template} line ${l.line} writes the port into the vhost: ${l.text}`),
    "       ! so every deploy reloads Apache, which can stall or reset other apps' requests; route through the port map instead:",
    '       !   RewriteMap ${MAP_NAME} "txt:${PORT_MAP}"  and  RewriteRule "^/(.*)$" "http://${${MAP_NAME}:upstream}/$1" [P,NE]  (README "Apache templates")',
  ];
}
