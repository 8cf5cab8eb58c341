// pm2 process file: `pm2 start ecosystem.config.js`. The git server owns the embedded Redis
// (unless REDIS_URL is set) and the worker finds it through $SLIPWAY_HOME/runtime.json, so the
// server starts first. pm2 loads this file with require(): it must stay CommonJS.
const shared = {
  cwd: __dirname,
  kill_timeout: 15 * 60 * 1000, // SIGTERM lets a running deploy finish before the process exits
  env: {
    NODE_ENV: 'production',
    SLIPWAY_HOME: process.env.SLIPWAY_HOME || '/var/lib/slipway',
  },
};

module.exports = {
  apps: [
    { ...shared, name: 'slipway-server', script: 'dist/cli.js', args: 'server' },
    { ...shared, name: 'slipway-worker', script: 'dist/cli.js', args: 'worker', restart_delay: 2000 },
  ],
};
