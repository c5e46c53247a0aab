/**
 * The list-then-watch loop the simulator's parts share (simulator.ts, storage.ts), as client-go's
 * reflectors do it: list, watch from the list's resourceVersion with bookmarks; a watch that ends
 * normally (the server-side timeout, below client-node's 30 s inactivity abort) resumes from the
 * last resourceVersion seen, an ERROR event (410 Gone) or a failure re-lists.
 */
import * as k8s from "@kubernetes/client-node";

export interface Listed {
  metadata?: { resourceVersion?: string };
  items: { metadata?: unknown }[];
}

export interface WatchLoops {
  /** starts one loop; runs until stop() */
  start(
    path: string,
    list: () => Promise<Listed>,
    onEvent: (
      type: string,
      obj: { metadata?: { resourceVersion?: string } & Record<string, unknown> },
    ) => void,
    query?: Record<string, string | number | boolean>,
  ): void;
  stop(): void;
  /** watch requests that ended (timeout, error); each was resumed */
  readonly restarts: number;
}

export function watchLoops(kc: k8s.KubeConfig, log: (m: string) => void, timeoutSeconds = 20): WatchLoops {
  const watcher = new k8s.Watch(kc);
  const aborts = new Set<AbortController>();
  let stopped = false;
  let restarts = 0;

  async function loop(
    path: string,
    list: () => Promise<Listed>,
    onEvent: (type: string, obj: { metadata?: { resourceVersion?: string } }) => void,
    query: Record<string, string | number | boolean>,
  ): Promise<void> {
    while (!stopped) {
      try {
        const l = await list();
        for (const item of l.items) onEvent("ADDED", item as { metadata?: { resourceVersion?: string } });
        let rv = l.metadata?.resourceVersion ?? "";
        let gone = false;
        while (!stopped && !gone) {
          await new Promise<void>((resolve, reject) => {
            let ac: AbortController | undefined;
            watcher
              .watch(
                path,
                { ...query, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds },
                (type, obj: { metadata?: { resourceVersion?: string } }) => {
                  if (type === "ERROR") {
                    gone = true;
                    return;
                  }
                  if (obj.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
                  if (type !== "BOOKMARK") onEvent(type, obj);
                },
                (err) => {
                  if (ac) aborts.delete(ac);
                  restarts++;
                  if (err && !stopped && (err as Error).name !== "TimeoutError") reject(err);
                  else resolve();
                },
              )
              .then((c) => {
                ac = c;
                if (stopped) c.abort();
                else aborts.add(c);
              }, reject);
          });
        }
      } catch (err) {
        if (stopped) return;
        log(`watch ${path} failed: ${(err as Error).message ?? err}; re-listing`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  return {
    start(path, list, onEvent, query = {}) {
      void loop(path, list, onEvent as never, query);
    },
    stop() {
      stopped = true;
      for (const ac of aborts) ac.abort();
      aborts.clear();
    },
    get restarts() {
      return restarts;
    },
  };
}
