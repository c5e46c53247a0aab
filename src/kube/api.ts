import type { KubeClient, WatchEvent } from "./client.ts";
import { KubeError } from "./errors.ts";
import { collectionPath, groupVersion, objectPath, type Resource, resourceForKind } from "./resources.ts";

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  uid?: string;
  finalizers?: string[];
  ownerReferences?: { kind: string; name: string; uid?: string }[];
}

export interface KubeResource {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

/**
 * Typed operations over the client. Every call names its verb and resource for errors, and
 * every call is abortable: by its own signal and by the one the API was bound to (`withSignal`,
 * e.g. SIGINT), so discovery and preflight stop at Ctrl-C too.
 */
export class KubeApi {
  readonly client: KubeClient;
  private readonly bound: AbortSignal | undefined;
  constructor(client: KubeClient, signal?: AbortSignal) {
    this.client = client;
    this.bound = signal;
  }

  /** The same API without the bound signal (for the report after an interruption). */
  unbound(): KubeApi {
    return new KubeApi(this.client);
  }

  /** The same API whose every call also stops when `signal` aborts. */
  withSignal(signal: AbortSignal): KubeApi {
    return new KubeApi(this.client, this.bound ? AbortSignal.any([this.bound, signal]) : signal);
  }

  /** The bound signal combined with a call's own; spread into request options. */
  private abortable(signal?: AbortSignal): { signal?: AbortSignal } {
    const s = this.bound && signal ? AbortSignal.any([this.bound, signal]) : (signal ?? this.bound);
    return s ? { signal: s } : {};
  }

  /** Creates `obj`; an object that already exists counts as success ("exists"). */
  async create(
    obj: KubeResource,
    options: { dryRun?: boolean; signal?: AbortSignal } = {},
  ): Promise<"created" | "exists"> {
    const resource = resourceForKind(obj.kind ?? "");
    const namespace = resource.namespaced ? obj.metadata?.namespace : undefined;
    try {
      await this.client.request("POST", collectionPath(resource, namespace), {
        call: {
          verb: "create",
          resource,
          ...(obj.metadata?.name ? { name: obj.metadata.name } : {}),
          ...(namespace ? { namespace } : {}),
        },
        body: obj,
        query: { fieldValidation: "Strict", dryRun: options.dryRun ? "All" : undefined },
        ...this.abortable(options.signal),
        // A create already sent is let finish on a signal, so what exists is what was counted.
        settleInFlight: true,
      });
      return "created";
    } catch (err) {
      if (err instanceof KubeError && err.isAlreadyExists) return "exists";
      throw err;
    }
  }

  async get<T extends KubeResource>(
    resource: Resource,
    name: string,
    namespace?: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<T | undefined> {
    try {
      return await this.client.request<T>("GET", objectPath(resource, name, namespace), {
        call: { verb: "get", resource, name, ...(namespace ? { namespace } : {}) },
        ...this.abortable(options.signal),
      });
    } catch (err) {
      if (err instanceof KubeError && err.isNotFound && err.reason === "NotFound") return undefined;
      throw err;
    }
  }

  async list<T extends KubeResource>(
    resource: Resource,
    namespace: string | undefined,
    labelSelector?: string,
    fieldSelector?: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ListResult<T>> {
    const result = await this.client.request<{ items?: T[]; metadata?: { resourceVersion?: string } }>(
      "GET",
      collectionPath(resource, namespace),
      {
        call: { verb: "list", resource, ...(namespace ? { namespace } : {}) },
        query: { labelSelector, fieldSelector },
        ...this.abortable(options.signal),
      },
    );
    return { items: result.items ?? [], resourceVersion: result.metadata?.resourceVersion ?? "" };
  }

  /**
   * Deletes one object; one that is already gone counts as success ("absent"). `uid` makes the
   * server refuse (409) when the name now belongs to another object than the one listed.
   */
  async delete(
    resource: Resource,
    name: string,
    namespace?: string,
    options: { dryRun?: boolean; uid?: string } = {},
  ): Promise<"deleted" | "absent"> {
    try {
      await this.client.request("DELETE", objectPath(resource, name, namespace), {
        call: { verb: "delete", resource, name, ...(namespace ? { namespace } : {}) },
        // With a DeleteOptions body the API server reads dryRun from the body, not the query.
        body: {
          kind: "DeleteOptions",
          apiVersion: "v1",
          propagationPolicy: "Background",
          ...(options.dryRun ? { dryRun: ["All"] } : {}),
          ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
        },
        ...this.abortable(),
      });
      return "deleted";
    } catch (err) {
      if (err instanceof KubeError && err.isNotFound && err.reason === "NotFound") return "absent";
      throw err;
    }
  }

  /** One request that deletes every object matching the selector; returns the objects the server deleted. */
  async deleteCollection<T extends KubeResource>(
    resource: Resource,
    namespace: string,
    labelSelector: string,
    options: { dryRun?: boolean } = {},
  ): Promise<T[]> {
    const result = await this.client.request<{ items?: T[] }>("DELETE", collectionPath(resource, namespace), {
      call: { verb: "deletecollection", resource, namespace },
      query: { labelSelector },
      // With a DeleteOptions body the API server reads dryRun from the body, not the query.
      body: {
        kind: "DeleteOptions",
        apiVersion: "v1",
        propagationPolicy: "Background",
        ...(options.dryRun ? { dryRun: ["All"] } : {}),
      },
      ...this.abortable(),
    });
    return result.items ?? [];
  }

  /** One watch request; bookmarks are passed on too (their resourceVersion matters). See watch.ts to follow a watch. */
  watch<T extends KubeResource>(
    resource: Resource,
    namespace: string,
    options: {
      labelSelector?: string;
      fieldSelector?: string;
      resourceVersion?: string;
      timeoutSeconds?: number;
    },
    onEvent: (event: WatchEvent<T>) => "stop" | undefined,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    return this.client.watch<T>(
      collectionPath(resource, namespace),
      {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        timeoutSeconds: options.timeoutSeconds === undefined ? undefined : String(options.timeoutSeconds),
      },
      { verb: "watch", resource, ...(namespace ? { namespace } : {}) },
      onEvent,
      this.abortable(signal).signal,
    );
  }

  /** Whether the API server serves `resource` (its CRD is installed and established). */
  async serves(resource: Resource, signal?: AbortSignal): Promise<boolean> {
    const path = resource.group ? `/apis/${groupVersion(resource)}` : `/api/${resource.version}`;
    try {
      const list = await this.client.request<{ resources?: { name: string }[] }>("GET", path, {
        call: { verb: "discover", resource },
        ...this.abortable(signal),
      });
      return (list.resources ?? []).some((r) => r.name === resource.plural);
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return false;
      throw err;
    }
  }
}
