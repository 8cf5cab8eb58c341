/**
 * Renders an Apache config template. Only the variables slipway defines are substituted, in both
 * `${NAME}` and `$NAME` forms; every other `${...}` (Apache's own `${APACHE_LOG_DIR}`, say) is left
 * for Apache to expand.
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced?: string, bare?: string) => {
    const name = (braced ?? bare) as string;
    return Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : whole;
  });
}

/** The seed's per-app port variable: app `adara` → `ADARA_PORT`. */
export function appPortVariable(app: string): string {
  return `${app.toUpperCase().replace(/-/g, '_')}_PORT`;
}

/** The variables a template of `app` may use. */
export function templateVariables(input: { app: string; port: number; domain: string; portMapFile: string; httpPort: number }): Record<string, string> {
  return {
    APP: input.app,
    PORT: String(input.port),
    DOMAIN: input.domain,
    PORT_MAP: input.portMapFile,
    HTTP_PORT: String(input.httpPort),
    [appPortVariable(input.app)]: String(input.port),
  };
}

/**
 * The templates in a sites directory that belong to `app`: `<app>.conf.template` and
 * `<app>-*.conf.template`, except those that belong to a longer app name (`shop-api` is not `shop`'s).
 */
export function appTemplateFiles(fileNames: string[], app: string, otherApps: string[]): string[] {
  const longer = otherApps.filter((other) => other !== app && other.startsWith(`${app}-`));
  const owns = (file: string, name: string) => file === `${name}.conf.template` || (file.startsWith(`${name}-`) && file.endsWith('.conf.template'));
  return fileNames
    .filter((file) => owns(file, app))
    .filter((file) => !longer.some((other) => owns(file, other)))
    .sort();
}
