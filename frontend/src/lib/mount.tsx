// Every page island mounts the same way: a Django template renders
// <div id="NAME-root" data-props='{"…": …}'> (json_script-safe JSON) and the
// island's entry calls mountIsland("NAME-root", Component).
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode, type ComponentType } from "react";
import { createRoot } from "react-dom/client";
import { islandProps } from "./api";

export const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 10_000 } },
});

export function mountIsland<P extends object>(rootId: string, Component: ComponentType<P>): void {
  const root = document.getElementById(rootId);
  if (!root) return;
  const props = islandProps<P>(root);
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <Component {...props} />
      </QueryClientProvider>
    </StrictMode>,
  );
}
