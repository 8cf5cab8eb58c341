/** Push options (`git push -o no-wait`) as git hands them to hooks: GIT_PUSH_OPTION_COUNT and _0.._N-1. */
export function readPushOptions(env: NodeJS.ProcessEnv): Set<string> {
  const count = Number(env.GIT_PUSH_OPTION_COUNT ?? 0);
  const options = new Set<string>();
  for (let i = 0; i < count && i < 32; i++) {
    const value = env[`GIT_PUSH_OPTION_${i}`];
    if (value) options.add(value);
  }
  return options;
}
