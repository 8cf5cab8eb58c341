/**
 * slipway's layers, as docs/architecture.md describes them (bottom to top):
 *
 *   shared     src/*.ts except the entry files: names, settings, atomic writes, the logger...
 *   adapters   src/{docker,apache,git,queue}/: thin layers over Docker, Apache, git, BullMQ/Redis
 *   domain     src/{deploy,releases,apps,notify,push,auth,state,audit,backup,tls,cluster}/: what a deploy, a release, a push is
 *              (state/'s format primitives are shared: every store reads through them)
 *   processes  src/{worker,server,hook,dashboard,doctor,ssh,agent}/: what runs (ssh/: the entry sshd runs for a key, and the keys file)
 *   entry      src/cli.ts, src/cli/, src/slipway-process.ts: wires the processes together
 *
 * A module imports its own layer's shared files and the layers below it, never above; an adapter
 * imports no other adapter; a process imports no other process; nothing imports in a circle.
 * `npm run lint` runs this check (`depcruise src`).
 */
// Every file directly in src/ but the two entry files.
// and the versioned-state primitives (a file's format version, its migrations): every store reads through them.
const SHARED = '^src/((?!cli[.]ts$|slipway-process[.]ts$)[^/]+[.]ts|state/(state-format|state-file|port-map-format)[.]ts|state/migrations/[^/]+[.]ts)$';
const ADAPTERS = '^src/(docker|apache|git|queue)/';
const DOMAIN = '^src/(deploy|releases|apps|notify|push|auth|state|audit|backup|tls|cluster)/';
const PROCESSES = '^src/(worker|server|hook|dashboard|doctor|ssh|agent)/';
const ENTRY = '^src/(cli[.]ts|cli/|slipway-process[.]ts)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A circle of imports has no bottom: split out what both sides need. Imports of types only ' +
        "(`import type`, erased at build) do not count: two files of one folder may name each other's types.",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'every-module-has-a-layer',
      severity: 'error',
      comment: 'Every file under src/ belongs to a layer: put a new folder in one, here and in docs/architecture.md.',
      from: { path: '^src/', pathNot: [SHARED, ADAPTERS, DOMAIN, PROCESSES, ENTRY] },
      to: {},
    },
    {
      name: 'shared-imports-only-shared',
      severity: 'error',
      comment: 'The shared files are the bottom layer: they import node built-ins, packages and each other only.',
      from: { path: SHARED },
      to: { path: '^src/', pathNot: SHARED },
    },
    {
      name: 'adapter-imports-only-itself-and-shared',
      severity: 'error',
      comment: 'An adapter (docker, apache, git, queue) is a thin layer over one outside system: it imports its own folder and the shared files only.',
      from: { path: '^src/(docker|apache|git|queue)/' },
      to: { path: '^src/', pathNot: [SHARED, '^src/$1/'] },
    },
    {
      name: 'domain-imports-no-process-or-entry',
      severity: 'error',
      comment: 'Domain code (deploy, releases, apps, notify, push, auth) is used by the processes; it never imports them or the CLI.',
      from: { path: DOMAIN },
      to: { path: [PROCESSES, ENTRY] },
    },
    {
      name: 'process-imports-no-other-process-or-entry',
      severity: 'error',
      comment: 'A process (worker, server, hook, dashboard, doctor) imports the layers below it, not another process or the CLI: what two processes share belongs in a lower layer.',
      from: { path: '^src/(worker|server|hook|dashboard|doctor|ssh|agent)/' },
      to: { path: [PROCESSES, ENTRY], pathNot: '^src/$1/' },
    },
    {
      name: 'hook-loads-only-its-protocol',
      severity: 'error',
      comment: 'git runs the post-receive hook on every push, on the way to live: it loads node built-ins and the hook protocol, nothing else.',
      from: { path: '^src/hook/' },
      to: { pathNot: ['^src/hook/', '^src/push/hook-protocol[.]ts$'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'hook-protocol-is-a-leaf',
      severity: 'error',
      comment: 'The hook protocol is loaded by the hook on every push: node built-ins only.',
      from: { path: '^src/push/hook-protocol[.]ts$' },
      // Types only (erased at build) may come from elsewhere: the hook still loads nothing.
      to: { dependencyTypesNot: ['core', 'type-only'] },
    },
    {
      name: 'src-imports-no-tests',
      severity: 'error',
      comment: 'The product never imports its tests or benchmark.',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
