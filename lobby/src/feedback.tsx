/**
 * What the page tells a player about their actions: errors stay until dismissed or fixed (the
 * same action succeeding clears its error), short confirmations come and go as a toast.
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";
import { errorView, type ErrorView } from "./messages.ts";

export interface ErrorItem extends ErrorView {
  /** What failed ("create", "join:<id>"...): a later success of the same action clears it. */
  key: string;
}

export interface Toast {
  id: number;
  text: string;
}

export interface Feedback {
  errors: readonly ErrorItem[];
  toast: Toast | null;
  /** Shows `err` (server message, retry time) until dismissed or `fixed(key)`. */
  failed(key: string, err: unknown): void;
  fixed(key: string): void;
  dismiss(key: string): void;
  info(text: string): void;
}

const FeedbackContext = createContext<Feedback | null>(null);

export function useFeedback(): Feedback {
  const f = useContext(FeedbackContext);
  if (!f) throw new Error("useFeedback() outside <FeedbackProvider>");
  return f;
}

export function FeedbackProvider({ children }: { children: ReactNode }) {
  const [errors, setErrors] = useState<readonly ErrorItem[]>([]);
  const [toast, setToast] = useState<Toast | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const ids = useRef(0);

  const failed = useCallback((key: string, err: unknown) => {
    const item = { key, ...errorView(err) };
    setErrors((list) => [...list.filter((e) => e.key !== key), item]);
  }, []);
  const fixed = useCallback((key: string) => setErrors((list) => (list.some((e) => e.key === key) ? list.filter((e) => e.key !== key) : list)), []);
  const info = useCallback((text: string) => {
    setToast({ id: ++ids.current, text });
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => setToast(null), 4000);
  }, []);

  const value = useMemo<Feedback>(() => ({ errors, toast, failed, fixed, dismiss: fixed, info }), [errors, toast, failed, fixed, info]);
  return <FeedbackContext.Provider value={value}>{children}</FeedbackContext.Provider>;
}
