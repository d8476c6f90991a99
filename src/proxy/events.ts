/**
 * What the pull-through cache tells the rest of Wharf: one PullThrough per blob or manifest it
 * fetched from an upstream and stored. startWharf turns each into a `pull` event naming the
 * upstream (src/notifications/pull-through-events.ts) when notifications are configured.
 */
export interface PullThrough {
  readonly kind: 'blob' | 'manifest';
  /** The local repository the content was stored in. */
  readonly repository: string;
  readonly digest: string;
  readonly size: number;
  readonly mediaType?: string | undefined;
  /** The tag the manifest was pulled by, when it was. */
  readonly tag?: string | undefined;
  readonly upstream: {
    /** The upstream's configured name (`proxy` for distribution's `proxy` section). */
    readonly name: string;
    /** Its base URL. */
    readonly url: string;
    /** The repository's name there. */
    readonly repository: string;
  };
}

export interface ProxyListener {
  pulledThrough(event: PullThrough): void;
}
