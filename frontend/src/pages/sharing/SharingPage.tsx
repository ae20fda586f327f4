// The Sharing tab: who may read, execute, modify and delete this workflow.
// Only the owner changes it; everyone else sees the list read-only.
import { useState, type FormEvent } from "react";
import { Autocomplete, type Option } from "../common/Autocomplete";
import { Button, Card, EmptyState, ErrorBanner, Loading, Notice } from "../common/ui";
import { fullName, useUserSearch } from "../common/users";
import { useTeams } from "../teams/api";
import { ACTIONS, usePermissions, useSetPermissions, type Action } from "./api";
import {
  ACTION_HELP,
  ACTION_LABELS,
  TEAM_PREFIX,
  grantsOf,
  principalsOf,
  withAction,
  withPrincipal,
  type Principal,
} from "./grants";

interface Props {
  workflowId: string;
  isOwner: boolean;
  owner: string;
}

export function SharingPage({ workflowId, isOwner, owner }: Props) {
  const permissions = usePermissions(workflowId);
  const save = useSetPermissions(workflowId);
  const [saved, setSaved] = useState<string | null>(null);

  if (permissions.isPending) return <Loading label="Loading who has access…" />;
  if (permissions.isError)
    return (
      <ErrorBanner>
        Could not load who has access: {permissions.error.message}. Reload the page to try again.
      </ErrorBanner>
    );

  const principals = principalsOf(permissions.data, owner);

  function apply(next: Principal[], message: string) {
    setSaved(null);
    save.mutate(grantsOf(next), { onSuccess: () => setSaved(message) });
  }

  return (
    <div className="grid gap-6 xl:grid-cols-[1fr_24rem]">
      <div className="space-y-3">
        {!isOwner && (
          <Notice>
            Only the owner can change who has access. Ask <strong>{owner}</strong> if you need more.
          </Notice>
        )}
        <Card title="Who has access" labelledBy="access-title">
          <AccessTable
            owner={owner}
            principals={principals}
            editable={isOwner}
            busy={save.isPending}
            onToggle={(name, action, on) =>
              apply(
                withAction(principals, name, action, on),
                `${on ? "Granted" : "Removed"} ${action} ${on ? "to" : "from"} ${name}.`,
              )
            }
            onRemove={(name) =>
              apply(
                principals.filter((p) => p.name !== name),
                `${name} no longer has access.`,
              )
            }
          />
          <p className="mt-3 text-xs text-slate-500">
            Any permission implies read. The owner always holds all four.
          </p>
        </Card>
        <div aria-live="polite">
          {save.isError && <ErrorBanner error={save.error} />}
          {saved && !save.isError && <Notice tone="success">{saved}</Notice>}
        </div>
      </div>
      {isOwner && (
        <GrantForm
          owner={owner}
          busy={save.isPending}
          onGrant={(name, actions) =>
            apply(
              withPrincipal(principals, name, actions),
              `${name} can now ${actions.join(", ")}.`,
            )
          }
        />
      )}
    </div>
  );
}

function Mark({ on, label }: { on: boolean; label: string }) {
  return on ? (
    <span className="text-emerald-600">
      <span aria-hidden="true">✓</span>
      <span className="sr-only">{label}: yes</span>
    </span>
  ) : (
    <span className="text-slate-300">
      <span aria-hidden="true">—</span>
      <span className="sr-only">{label}: no</span>
    </span>
  );
}

function AccessTable({
  owner,
  principals,
  editable,
  busy,
  onToggle,
  onRemove,
}: {
  owner: string;
  principals: Principal[];
  editable: boolean;
  busy: boolean;
  onToggle: (name: string, action: Action, on: boolean) => void;
  onRemove: (name: string) => void;
}) {
  return (
    <>
      <table className="min-w-full text-sm">
        <caption className="sr-only">People and teams with access</caption>
        <thead className="text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
          <tr>
            <th scope="col" className="py-2 pr-3">
              Who
            </th>
            {ACTIONS.map((action) => (
              <th
                key={action}
                scope="col"
                className="px-2 py-2 text-center"
                title={ACTION_HELP[action]}
              >
                {ACTION_LABELS[action]}
              </th>
            ))}
            {editable && (
              <th scope="col" className="py-2">
                <span className="sr-only">Remove</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          <tr>
            <th scope="row" className="py-2 pr-3 text-left font-medium">
              {owner}{" "}
              <span className="ml-1 rounded-full bg-brand-50 px-2 py-0.5 text-xs text-brand-700">
                Owner
              </span>
            </th>
            {ACTIONS.map((action) => (
              <td key={action} className="px-2 py-2 text-center">
                <Mark on label={ACTION_LABELS[action]} />
              </td>
            ))}
            {editable && <td />}
          </tr>
          {principals.map((p) => (
            <tr key={p.name} data-principal={p.name}>
              <th scope="row" className="py-2 pr-3 text-left font-medium">
                {p.isTeam ? (
                  <>
                    {p.name.slice(TEAM_PREFIX.length)}{" "}
                    <span className="ml-1 rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600">
                      Team
                    </span>
                  </>
                ) : (
                  p.name
                )}
              </th>
              {ACTIONS.map((action) => (
                <td key={action} className="px-2 py-2 text-center">
                  {editable ? (
                    <input
                      type="checkbox"
                      className="h-4 w-4 accent-brand-600"
                      aria-label={`${ACTION_LABELS[action]} for ${p.name}`}
                      checked={p.actions.has(action)}
                      disabled={busy}
                      onChange={(e) => onToggle(p.name, action, e.target.checked)}
                    />
                  ) : (
                    <Mark on={p.actions.has(action)} label={ACTION_LABELS[action]} />
                  )}
                </td>
              ))}
              {editable && (
                <td className="py-2 text-right">
                  <Button
                    variant="ghost"
                    disabled={busy}
                    onClick={() => onRemove(p.name)}
                    aria-label={`Remove access for ${p.name}`}
                  >
                    Remove
                  </Button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {principals.length === 0 && (
        <EmptyState title="Only the owner has access">
          {editable
            ? "Grant access to a colleague or a team with the form."
            : "Nobody else has been given access yet."}
        </EmptyState>
      )}
    </>
  );
}

function GrantForm({
  owner,
  busy,
  onGrant,
}: {
  owner: string;
  busy: boolean;
  onGrant: (name: string, actions: Action[]) => void;
}) {
  const [text, setText] = useState("");
  const [actions, setActions] = useState<Set<Action>>(new Set(["read"]));
  const users = useUserSearch(text);
  const teams = useTeams();
  const needle = text
    .trim()
    .toLowerCase()
    .replace(/^team:/, "");

  const teamOptions: Option[] = (teams.data ?? [])
    .filter((t) => needle.length > 0 && t.name.toLowerCase().includes(needle))
    .map((t) => ({
      value: t.share_as,
      label: t.share_as,
      detail: `Team · ${t.members.length} member${t.members.length === 1 ? "" : "s"}`,
    }));
  const userOptions: Option[] = (users.data ?? [])
    .filter((u) => u.username !== owner)
    .map((u) => ({ value: u.username, label: u.username, detail: fullName(u) }));

  function toggle(action: Action, on: boolean) {
    const next = new Set(actions);
    if (on) next.add(action);
    else next.delete(action);
    setActions(next);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const name = text.trim();
    if (!name || actions.size === 0) return;
    onGrant(
      name,
      ACTIONS.filter((a) => actions.has(a)),
    );
    setText("");
  }

  return (
    <Card title="Grant access" labelledBy="grant-title">
      <form onSubmit={submit} className="space-y-4">
        <Autocomplete
          inputId="grant-principal"
          label="Person or team"
          value={text}
          onChange={setText}
          options={[...userOptions, ...teamOptions]}
          onSelect={(option) => setText(option.value)}
          loading={users.isFetching}
          placeholder="Username, name or team"
          hint="Teams are written team:NAME."
        />
        <fieldset>
          <legend className="text-xs font-medium text-slate-600">May</legend>
          <div className="mt-1 grid grid-cols-2 gap-2">
            {ACTIONS.map((action) => (
              <label
                key={action}
                className="flex items-start gap-2 text-sm"
                title={ACTION_HELP[action]}
              >
                <input
                  type="checkbox"
                  className="mt-0.5 h-4 w-4 accent-brand-600"
                  checked={actions.has(action)}
                  onChange={(e) => toggle(action, e.target.checked)}
                />
                {ACTION_LABELS[action]}
              </label>
            ))}
          </div>
        </fieldset>
        <Button
          type="submit"
          variant="primary"
          disabled={busy || !text.trim() || actions.size === 0}
        >
          {busy ? "Saving…" : "Grant access"}
        </Button>
      </form>
    </Card>
  );
}
