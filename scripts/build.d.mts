// Types for scripts/build.mjs (plain JavaScript so that node runs it without a TypeScript loader).
export declare const ROOT: string;
export declare const DIST: string;
export declare const BUILD_INFO: string;
export declare const ENTRY_POINTS: string[];
/** Why dist/ must be (re)built, or null when it is up to date. `root`: the package folder (default: this one). */
export declare function staleReason(root?: string): string | null;
export declare function build(options?: { log?: (line: string) => void }): Promise<void>;
export declare function ensureBuilt(options?: { log?: (line: string) => void }): Promise<void>;
/** The arguments after `node` of package.json's "start" script. */
export declare function startArguments(): string[];
