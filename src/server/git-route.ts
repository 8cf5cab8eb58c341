import { appNameProblem } from '../names';

/** A git smart-HTTP request, understood. */
export interface GitRoute {
  app: string;
  /** The part after `<app>.git/`: info/refs, git-upload-pack, git-receive-pack, HEAD. */
  action: 'info/refs' | 'git-upload-pack' | 'git-receive-pack' | 'HEAD';
  /** True when the request writes (a push), from its path or `?service=`. */
  isPush: boolean;
}

/**
 * Parses the request path strictly, before anything touches the disk: anything that is not
 * `/<app>[.git]/<known action>` with a valid app name is refused with a reason.
 */
export function parseGitRoute(method: string, rawUrl: string): { route: GitRoute } | { status: number; message: string } {
  if (rawUrl.length > 2048) return { status: 414, message: 'URL too long' };
  const url = new URL(rawUrl, 'http://localhost');
  const match = /^\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack|HEAD)$/.exec(url.pathname);
  if (!match) return { status: 404, message: 'not a git repository URL: use http://HOST:PORT/<app>.git' };
  let app: string;
  try {
    app = decodeURIComponent(match[1]);
  } catch {
    return { status: 400, message: 'bad URL encoding in the app name' };
  }
  const problem = appNameProblem(app);
  if (problem) return { status: 400, message: problem };
  const action = match[2] as GitRoute['action'];
  const service = url.searchParams.get('service');
  if (action === 'info/refs' && service !== 'git-upload-pack' && service !== 'git-receive-pack') {
    return { status: 403, message: 'only smart HTTP is served (git 1.6.6 or newer)' };
  }
  const expectPost = action === 'git-upload-pack' || action === 'git-receive-pack';
  if (expectPost !== (method === 'POST') || (!expectPost && method !== 'GET')) return { status: 405, message: 'method not allowed' };
  return { route: { app, action, isPush: action === 'git-receive-pack' || service === 'git-receive-pack' } };
}
