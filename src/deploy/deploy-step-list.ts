import type { DeployContext } from './deploy-context';
import { convergesWorkers, deploysToHosts, deploysWeb, onlyWhen, planStep, releasesHere, replacesWorkersHere, retiresWeb } from './deploy-plan';
import { buildImage, promotePending, readAppSettings, recordIntent, retirePrevious, startPending, switchApache, waitForHealth, watchAfterSwitch } from './deploy-steps';
import { readProcfile, runReleaseCommand } from './release-phase';
import { commitHosts, finishHosts, prepareHosts, publishImage } from './rollout-steps';
import type { DeployStep } from './step-runner';
import { scaleWorkers } from './worker-scale';
import { promoteWorkers, retireWorkers, startWorkers, watchWorkers } from './worker-steps';

/**
 * The deploy: settings → Procfile → plan → build → release command → pending (one per web replica)
 * → health → record → switch → new workers → watch → watch workers → drain and stop old → stop old
 * workers → rename → rename workers (worker-steps.ts). An app on several hosts publishes its image
 * and runs the web and worker steps as phases on every host instead, the server's own included
 * (rollout-steps.ts, host-phase.ts): prepare everywhere → record → commit host by host (switch,
 * workers, watch) → finish everywhere. The plan (deploy-plan.ts) skips the web steps
 * of a workers-only release (its workers start right after the release phase) and of a `scale` job
 * that changes only worker counts; such a job converges the workers (worker-scale.ts) instead of
 * replacing them.
 */
export const DEPLOY_STEPS: DeployStep<DeployContext>[] = [
  readAppSettings,
  readProcfile,
  planStep,
  buildImage,
  onlyWhen(deploysToHosts, publishImage),
  onlyWhen(releasesHere, runReleaseCommand),
  onlyWhen(deploysWeb, startPending),
  onlyWhen(deploysWeb, waitForHealth),
  onlyWhen(deploysToHosts, prepareHosts),
  recordIntent,
  onlyWhen(deploysWeb, switchApache),
  onlyWhen(deploysToHosts, commitHosts),
  onlyWhen(replacesWorkersHere, startWorkers),
  onlyWhen(convergesWorkers, scaleWorkers),
  onlyWhen(deploysWeb, watchAfterSwitch),
  onlyWhen(replacesWorkersHere, watchWorkers),
  onlyWhen(retiresWeb, retirePrevious),
  onlyWhen(deploysToHosts, finishHosts),
  onlyWhen(replacesWorkersHere, retireWorkers),
  onlyWhen(deploysWeb, promotePending),
  onlyWhen(replacesWorkersHere, promoteWorkers),
];
