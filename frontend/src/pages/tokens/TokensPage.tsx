// /settings/tokens/: create API keys (shown once), list and revoke them.
import { useRef, useState, type FormEvent } from "react";
import {
  Button,
  Card,
  EmptyState,
  ErrorBanner,
  Loading,
  Notice,
  formatDate,
  inputClass,
  labelClass,
} from "../common/ui";
import { useCreateToken, useRevokeToken, useTokens, type CreatedToken, type Token } from "./api";

const EXPIRY_CHOICES: [string, string][] = [
  ["", "Never"],
  ["7", "In 7 days"],
  ["30", "In 30 days"],
  ["90", "In 90 days"],
  ["365", "In a year"],
];

export function TokensPage() {
  const [fresh, setFresh] = useState<CreatedToken | null>(null);
  return (
    <div className="grid gap-6 lg:grid-cols-[22rem_1fr]">
      <div className="space-y-4">
        <CreateToken onCreated={setFresh} />
      </div>
      <div className="space-y-4">
        {fresh && <NewKey token={fresh} onDone={() => setFresh(null)} />}
        <TokenList />
      </div>
    </div>
  );
}

function CreateToken({ onCreated }: { onCreated: (token: CreatedToken) => void }) {
  const [name, setName] = useState("");
  const [expiry, setExpiry] = useState("");
  const create = useCreateToken();

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate(
      { name: name.trim(), ...(expiry ? { expires_in_days: Number(expiry) } : {}) },
      {
        onSuccess: (token) => {
          onCreated(token);
          setName("");
          setExpiry("");
        },
      },
    );
  }

  return (
    <Card title="Create a token" labelledBy="create-token-title">
      <form onSubmit={submit} className="space-y-3">
        <div>
          <label htmlFor="token-name" className={labelClass}>
            Name
          </label>
          <input
            id="token-name"
            className={`${inputClass} mt-1`}
            value={name}
            maxLength={100}
            required
            placeholder="e.g. laptop, CI, notebook"
            onChange={(e) => setName(e.target.value)}
          />
          <p className="mt-1 text-xs text-slate-500">So you can tell your keys apart later.</p>
        </div>
        <div>
          <label htmlFor="token-expiry" className={labelClass}>
            Expires
          </label>
          <select
            id="token-expiry"
            className={`${inputClass} mt-1`}
            value={expiry}
            onChange={(e) => setExpiry(e.target.value)}
          >
            {EXPIRY_CHOICES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {create.isError && <ErrorBanner error={create.error} />}
        <Button type="submit" variant="primary" disabled={create.isPending || !name.trim()}>
          {create.isPending ? "Creating…" : "Create token"}
        </Button>
      </form>
    </Card>
  );
}

function NewKey({ token, onDone }: { token: CreatedToken; onDone: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(token.key);
      setCopied("yes");
    } catch {
      input.current?.select();
      setCopied(document.execCommand?.("copy") ? "yes" : "failed");
    }
  }

  return (
    <section
      aria-labelledby="new-key-title"
      className="rounded-lg border border-amber-300 bg-amber-50 p-4 shadow-sm"
    >
      <h2 id="new-key-title" className="text-sm font-semibold text-amber-900">
        Your new key for “{token.name}”
      </h2>
      <p className="mt-1 text-sm text-amber-900">
        Copy it now and keep it somewhere safe: <strong>it is shown only once</strong> and cannot be
        recovered. If you lose it, revoke it and create another.
      </p>
      <div className="mt-3 flex gap-2">
        <label htmlFor="new-key" className="sr-only">
          API key
        </label>
        <input
          id="new-key"
          ref={input}
          readOnly
          value={token.key}
          onFocus={(e) => e.target.select()}
          className={`${inputClass} font-mono`}
          data-testid="new-token-key"
        />
        <Button variant="primary" onClick={copy}>
          Copy
        </Button>
      </div>
      <div className="mt-3 flex items-center justify-between gap-3">
        <p role="status" className="text-xs text-amber-900">
          {copied === "yes" && "Copied to the clipboard."}
          {copied === "failed" && "Could not copy: select the key and copy it yourself."}
        </p>
        <Button onClick={onDone}>I have stored it</Button>
      </div>
    </section>
  );
}

function TokenList() {
  const tokens = useTokens();
  const revoke = useRevokeToken();
  const [confirming, setConfirming] = useState<number | null>(null);

  if (tokens.isPending) return <Loading label="Loading your tokens…" />;
  if (tokens.isError)
    return (
      <ErrorBanner>
        Could not load your tokens: {tokens.error.message}. Reload the page to try again.
      </ErrorBanner>
    );

  return (
    <Card title="Your tokens" labelledBy="tokens-title">
      {tokens.data.length === 0 ? (
        <EmptyState title="No API tokens yet">
          Create one to use the REST API, the Python SDK (<code>prsm.Client</code>) or the{" "}
          <code>prsm</code> command line.
        </EmptyState>
      ) : (
        <>
          <table className="min-w-full text-sm">
            <caption className="sr-only">Your API tokens</caption>
            <thead className="text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
              <tr>
                <th scope="col" className="py-2 pr-3">
                  Name
                </th>
                <th scope="col" className="py-2 pr-3">
                  Key
                </th>
                <th scope="col" className="py-2 pr-3">
                  Created
                </th>
                <th scope="col" className="py-2 pr-3">
                  Expires
                </th>
                <th scope="col" className="py-2 pr-3">
                  Last used
                </th>
                <th scope="col" className="py-2">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {tokens.data.map((token) => (
                <TokenRow
                  key={token.id}
                  token={token}
                  confirming={confirming === token.id}
                  busy={revoke.isPending}
                  onAsk={() => setConfirming(token.id)}
                  onCancel={() => setConfirming(null)}
                  onRevoke={() => revoke.mutate(token.id, { onSettled: () => setConfirming(null) })}
                />
              ))}
            </tbody>
          </table>
          {revoke.isError && (
            <div className="mt-3">
              <ErrorBanner error={revoke.error} />
            </div>
          )}
          {revoke.isSuccess && (
            <div className="mt-3">
              <Notice tone="success">
                Token revoked: programs using it are refused from now on.
              </Notice>
            </div>
          )}
        </>
      )}
    </Card>
  );
}

function TokenRow({
  token,
  confirming,
  busy,
  onAsk,
  onCancel,
  onRevoke,
}: {
  token: Token;
  confirming: boolean;
  busy: boolean;
  onAsk: () => void;
  onCancel: () => void;
  onRevoke: () => void;
}) {
  const expired = token.expires_at !== null && new Date(token.expires_at) < new Date();
  return (
    <tr>
      <td className="py-2 pr-3 font-medium">{token.name}</td>
      <td className="py-2 pr-3 font-mono text-xs text-slate-600">{token.prefix}…</td>
      <td className="py-2 pr-3 text-slate-600">{formatDate(token.created_at)}</td>
      <td className="py-2 pr-3 text-slate-600">
        {token.expires_at ? formatDate(token.expires_at) : "Never"}
        {expired && (
          <span className="ml-1 rounded bg-red-50 px-1.5 text-xs text-red-700">expired</span>
        )}
      </td>
      <td className="py-2 pr-3 text-slate-600">
        {token.last_used_at ? formatDate(token.last_used_at) : "Never"}
      </td>
      <td className="py-2 text-right">
        {confirming ? (
          <span className="inline-flex items-center gap-2">
            <span className="text-xs text-slate-600">Programs using it stop working.</span>
            <Button variant="danger" disabled={busy} onClick={onRevoke}>
              Revoke
            </Button>
            <Button variant="ghost" onClick={onCancel}>
              Cancel
            </Button>
          </span>
        ) : (
          <Button variant="ghost" onClick={onAsk} aria-label={`Revoke ${token.name}`}>
            Revoke…
          </Button>
        )}
      </td>
    </tr>
  );
}
