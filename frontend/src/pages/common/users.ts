// GET /users?search= — the autocomplete behind sharing and team membership.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api } from "../../lib/api";

export interface UserHit {
  username: string;
  first_name: string;
  last_name: string;
}

export function fullName(user: Pick<UserHit, "first_name" | "last_name">): string {
  return [user.first_name, user.last_name].filter(Boolean).join(" ");
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export function useUserSearch(text: string) {
  const query = useDebounced(text.trim(), 200);
  return useQuery({
    queryKey: ["users", query],
    queryFn: ({ signal }) =>
      api<UserHit[]>(`/users?search=${encodeURIComponent(query)}`, { signal }),
    enabled: query.length >= 2,
    staleTime: 30_000,
  });
}
