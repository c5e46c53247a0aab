import { sleepUnlessAborted } from "../util/sleep.ts";
import type { KubeApi, KubeResource } from "./api.ts";
import { WATCH_IDLE_CODE, type WatchEvent } from "./client.ts";
import { isWatchRetryable, KubeError, KubeNetworkError } from "./errors.ts";
import type { Resource } from "./resources.ts";
import { backoffMs, type RetryPolicy } from "./retry.ts";

/** Backoff between watch attempts: short, jittered, capped (client-go's reflector backs off 0.8–30 s). */
export const WATCH_BACKOFF: RetryPolicy = {
  attempts: Number.POSITIVE_INFINITY,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
};

export interface ListWatchOptions<T> {
  resource: Resource;
  /** "" for a cluster-scoped resource (e.g. namespaces). */
  namespace: string;
  labelSelector?: string;
  /** e.g. `metadata.name=x`: follow one object (a namespace being deleted). */
  fieldSelector?: string;
  /** Stops the loop (resolves); the deadline and SIGINT come in through here. */
  signal: AbortSignal;
  /** Every object of a (re-)list: the full current state. */
  onList: (items: T[]) => void;
  /** Every ADDED / MODIFIED / DELETED event after the list (bookmarks are not passed on). */
  onEvent: (event: WatchEvent<T>) => void;
  /** Checked after the list and after each event: true ends the loop. */
  done: () => boolean;
  /** Server-side timeout of each watch request (s); jittered ×1–2 like client-go. Default 300. */
  watchTimeoutSeconds?: number;
  /** Each time the watch is resumed or re-listed, with why (for debug logs and tests). */
  onResume?: (how: "rewatch" | "relist", why: string, delayMs: number) => void;
  backoff?: RetryPolicy;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * List, then watch from the list's resourceVersion — the informer pattern (client-go's
 * reflector ListAndWatch). A watch that ends (the server's timeout, a load balancer, EOF, a
 * reset, an idle connection), fails with 429/5xx, or sends a line that is not an event is
 * resumed from the last resourceVersion seen (bookmarks keep it fresh) after a jittered
 * backoff; Retry-After is honoured. 410 Gone (the version expired) re-lists. A list that fails
 * transiently is retried the same way. Only a real failure (401, 403, 404, a bad request)
 * rejects; otherwise the loop runs until `done()` or the signal. Every request goes through the
 * client's rate limiter.
 */
export async function listWatch<T extends KubeResource>(
  api: KubeApi,
  options: ListWatchOptions<T>,
): Promise<void> {
  const { signal } = options;
  const policy = options.backoff ?? WATCH_BACKOFF;
  const timeout = options.watchTimeoutSeconds ?? 300;
  let version: string | undefined;
  let failures = 0;
  const pause = async (how: "rewatch" | "relist", err: unknown) => {
    const delay = backoffMs(Math.min(failures, 16), policy, err);
    failures++;
    options.onResume?.(how, describe(err), delay);
    await sleepUnlessAborted(delay, signal);
  };
  while (!signal.aborted && !options.done()) {
    if (version === undefined) {
      try {
        const list = await api.list<T>(
          options.resource,
          options.namespace,
          options.labelSelector,
          options.fieldSelector,
          {
            signal,
          },
        );
        options.onList(list.items);
        version = list.resourceVersion || undefined;
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        if (!isWatchRetryable(err)) throw err;
        await pause("relist", err);
      }
      continue;
    }
    const started = Date.now();
    let events = 0;
    try {
      version = await api.watch<T>(
        options.resource,
        options.namespace,
        {
          ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
          ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
          resourceVersion: version,
          timeoutSeconds: Math.round(timeout * (1 + Math.random())),
        },
        (event) => {
          events++;
          // Kept here too: a watch that fails (a cut, a stall) resumes after its last event, not
          // from where it started.
          version = event.object?.metadata?.resourceVersion ?? version;
          if (event.type !== "BOOKMARK") options.onEvent(event);
          return options.done() ? "stop" : undefined;
        },
        signal,
      );
      if (signal.aborted || options.done()) return;
      // A normal end of the stream. One that ends at once, again and again (a proxy that cuts
      // every watch), backs off like a failure instead of spinning.
      if (events === 0 && Date.now() - started < 1000) await pause("rewatch", "watch ended at once");
      else {
        failures = 0;
        options.onResume?.("rewatch", "watch ended", 0);
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof KubeError && err.status === 410) {
        version = undefined;
        options.onResume?.("relist", describe(err), 0);
        continue;
      }
      // Silent for the client's idle bound: resume at once (a quiet watch is not a failure; a
      // stalled one costs the idle bound, not a backoff on top).
      if (err instanceof KubeNetworkError && err.code === WATCH_IDLE_CODE) {
        failures = 0;
        options.onResume?.("rewatch", describe(err), 0);
        continue;
      }
      if (!isWatchRetryable(err)) throw err;
      if (events > 0) failures = 0;
      await pause("rewatch", err);
    }
  }
}

export interface WatchUntilOptions<T> {
  resource: Resource;
  namespace: string;
  labelSelector?: string;
  fieldSelector?: string;
  signal: AbortSignal;
  /** Gives up (resolves with done=false) after this long. */
  timeoutMs: number;
  /** The condition, over the current objects by name. */
  until: (objects: Map<string, T>) => boolean;
  /** After every change, e.g. for progress. */
  onChange?: (objects: Map<string, T>) => void;
  onResume?: ListWatchOptions<T>["onResume"];
}

/**
 * Watches a set of objects until `until(objects)` holds (e.g. "none left"), the timeout, or the
 * signal. Returns whether the condition was met and the objects as last seen.
 */
export async function watchUntil<T extends KubeResource>(
  api: KubeApi,
  options: WatchUntilOptions<T>,
): Promise<{ done: boolean; objects: Map<string, T> }> {
  const objects = new Map<string, T>();
  let met = false;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), options.timeoutMs);
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const check = () => {
    options.onChange?.(objects);
    met = options.until(objects);
  };
  try {
    await listWatch<T>(api, {
      resource: options.resource,
      namespace: options.namespace,
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
      signal,
      onList: (items) => {
        objects.clear();
        for (const item of items) objects.set(item.metadata?.name ?? "", item);
        check();
      },
      onEvent: (event) => {
        const name = event.object.metadata?.name ?? "";
        if (event.type === "DELETED") objects.delete(name);
        else objects.set(name, event.object);
        check();
      },
      done: () => met,
      ...(options.onResume ? { onResume: options.onResume } : {}),
    });
  } finally {
    clearTimeout(timer);
  }
  return { done: met, objects };
}
