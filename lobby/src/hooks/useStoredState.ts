import { useCallback, useState } from "react";

/**
 * State kept in sessionStorage under `key`: it survives a reload of the tab (the dropout notice
 * must), and goes with the tab. Storage may be disabled: then it is plain state.
 */
export function useStoredState<T>(key: string, initial: T): [T, (value: T) => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const raw = sessionStorage.getItem(key);
      return raw === null ? initial : (JSON.parse(raw) as T);
    } catch {
      return initial;
    }
  });
  const set = useCallback(
    (next: T) => {
      setValue(next);
      try {
        if (next === null || next === undefined) sessionStorage.removeItem(key);
        else sessionStorage.setItem(key, JSON.stringify(next));
      } catch {
        // storage disabled: state only
      }
    },
    [key],
  );
  return [value, set];
}
