/** Where the floating widget sits and whether it is folded, kept across reloads in localStorage. */

export interface WidgetPrefs {
  /** left/top in px; absent until the user drags it (then it sits bottom-right) */
  x?: number;
  y?: number;
  collapsed: boolean;
}

export const WIDGET_PREFS_KEY = 'com.clawpulse.livestatus:widget';

type StorageLike = Pick<Storage, 'getItem' | 'setItem'>;

function defaultStorage(): StorageLike | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage can be disabled (privacy mode): the widget still works, unsaved
  }
}

export function loadWidgetPrefs(storage: StorageLike | null = defaultStorage()): WidgetPrefs {
  try {
    const raw = storage?.getItem(WIDGET_PREFS_KEY);
    const v: unknown = raw ? JSON.parse(raw) : null;
    if (!v || typeof v !== 'object') return { collapsed: false };
    const o = v as Record<string, unknown>;
    const prefs: WidgetPrefs = { collapsed: o.collapsed === true };
    if (typeof o.x === 'number' && Number.isFinite(o.x) && typeof o.y === 'number' && Number.isFinite(o.y)) {
      prefs.x = o.x;
      prefs.y = o.y;
    }
    return prefs;
  } catch {
    return { collapsed: false };
  }
}

export function saveWidgetPrefs(prefs: WidgetPrefs, storage: StorageLike | null = defaultStorage()): void {
  try {
    storage?.setItem(WIDGET_PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // quota or disabled storage: position is simply not remembered
  }
}

/** Keeps a widget of size w×h inside a viewport of vw×vh. */
export function clampPosition(x: number, y: number, w: number, h: number, vw: number, vh: number) {
  return {
    x: Math.round(Math.min(Math.max(0, x), Math.max(0, vw - w))),
    y: Math.round(Math.min(Math.max(0, y), Math.max(0, vh - h))),
  };
}
