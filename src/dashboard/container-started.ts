import Docker from 'dockerode';

let shared: Docker | undefined;

/**
 * When a container last started (`State.StartedAt`), for the dashboard's uptime column; undefined
 * when there is no such container. (The deploy's DockerEngine does not carry start times.)
 */
export async function containerStartedAt(name: string, docker: Docker = (shared ??= new Docker())): Promise<string | undefined> {
  try {
    const info = await docker.getContainer(name).inspect();
    return info.State.Running ? info.State.StartedAt : undefined;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}
