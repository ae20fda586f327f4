// /teams/: create a team, see my teams and their members, add and remove members.
import { useState, type FormEvent } from "react";
import { Autocomplete, type Option } from "../common/Autocomplete";
import {
  Button,
  Card,
  EmptyState,
  ErrorBanner,
  Loading,
  Notice,
  inputClass,
  labelClass,
} from "../common/ui";
import { fullName, useUserSearch } from "../common/users";
import { useAddMember, useCreateTeam, useRemoveMember, useTeams, type Team } from "./api";

export function TeamsPage({ username }: { username: string }) {
  const teams = useTeams();
  return (
    <div className="grid gap-6 lg:grid-cols-[20rem_1fr]">
      <div>
        <CreateTeam />
      </div>
      <div className="space-y-4">
        {teams.isPending && <Loading label="Loading your teams…" />}
        {teams.isError && (
          <ErrorBanner>
            Could not load your teams: {teams.error.message}. Reload the page to try again.
          </ErrorBanner>
        )}
        {teams.data && teams.data.length === 0 && (
          <Card>
            <EmptyState title="You are not in any team yet">
              Create one with the form, then add colleagues; or ask a team manager to add you.
            </EmptyState>
          </Card>
        )}
        {teams.data?.map((team) => (
          <TeamCard key={team.id} team={team} me={username} />
        ))}
      </div>
    </div>
  );
}

function CreateTeam() {
  const [name, setName] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const create = useCreateTeam();

  function submit(event: FormEvent) {
    event.preventDefault();
    setCreated(null);
    create.mutate(name, {
      onSuccess: (team) => {
        setCreated(team.name);
        setName("");
      },
    });
  }

  return (
    <Card title="Create a team" labelledBy="create-team-title">
      <form onSubmit={submit} className="space-y-3">
        <div>
          <label htmlFor="team-name" className={labelClass}>
            Team name
          </label>
          <input
            id="team-name"
            className={`${inputClass} mt-1`}
            value={name}
            maxLength={150}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. protein-lab"
            required
          />
          <p className="mt-1 text-xs text-slate-500">
            You become its manager. Share a workflow with it as <code>team:NAME</code>.
          </p>
        </div>
        {create.isError && <ErrorBanner error={create.error} />}
        {created && <Notice tone="success">Team {created} created.</Notice>}
        <Button type="submit" variant="primary" disabled={create.isPending || !name.trim()}>
          {create.isPending ? "Creating…" : "Create team"}
        </Button>
      </form>
    </Card>
  );
}

function TeamCard({ team, me }: { team: Team; me: string }) {
  const remove = useRemoveMember(team.id);
  const promote = useAddMember(team.id);
  const [confirming, setConfirming] = useState<string | null>(null);
  const titleId = `team-${team.id}-title`;

  return (
    <Card
      labelledBy={titleId}
      title={
        <span className="flex items-center gap-2">
          {team.name}
          <code className="rounded bg-slate-100 px-1.5 py-0.5 text-xs font-normal text-slate-600">
            {team.share_as}
          </code>
        </span>
      }
      actions={
        <span className="text-xs text-slate-500">
          {team.members.length} member{team.members.length === 1 ? "" : "s"}
          {team.can_manage ? " · you manage it" : ""}
        </span>
      }
    >
      <ul className="divide-y divide-slate-100" aria-label={`Members of ${team.name}`}>
        {team.members.map((member) => {
          const isMe = member.username === me;
          const canRemove = team.can_manage || isMe;
          return (
            <li key={member.username} className="flex items-center justify-between gap-3 py-2">
              <span className="flex items-center gap-2 text-sm">
                <span
                  aria-hidden="true"
                  className="flex h-7 w-7 items-center justify-center rounded-full bg-slate-100 text-xs font-semibold uppercase text-slate-600"
                >
                  {member.username.slice(0, 1)}
                </span>
                <span className="font-medium">{member.username}</span>
                {fullName(member) && <span className="text-slate-500">{fullName(member)}</span>}
                {isMe && <span className="text-xs text-slate-500">(you)</span>}
                {member.is_manager && (
                  <span className="rounded-full bg-brand-50 px-2 py-0.5 text-xs font-medium text-brand-700">
                    Manager
                  </span>
                )}
              </span>
              <span className="flex items-center gap-1">
                {team.can_manage && !member.is_manager && confirming !== member.username && (
                  <Button
                    variant="ghost"
                    disabled={promote.isPending}
                    aria-label={`Make ${member.username} a manager of ${team.name}`}
                    onClick={() => promote.mutate({ username: member.username, is_manager: true })}
                  >
                    Make manager
                  </Button>
                )}
                {canRemove &&
                  (confirming === member.username ? (
                    <span className="flex items-center gap-2 text-sm">
                      <span>{isMe ? "Leave this team?" : `Remove ${member.username}?`}</span>
                      <Button
                        variant="danger"
                        disabled={remove.isPending}
                        onClick={() =>
                          remove.mutate(member.username, { onSettled: () => setConfirming(null) })
                        }
                      >
                        {isMe ? "Leave" : "Remove"}
                      </Button>
                      <Button variant="ghost" onClick={() => setConfirming(null)}>
                        Cancel
                      </Button>
                    </span>
                  ) : (
                    <Button
                      variant="ghost"
                      aria-label={
                        isMe ? `Leave ${team.name}` : `Remove ${member.username} from ${team.name}`
                      }
                      onClick={() => setConfirming(member.username)}
                    >
                      {isMe ? "Leave" : "Remove"}
                    </Button>
                  ))}
              </span>
            </li>
          );
        })}
      </ul>
      {(remove.isError || promote.isError) && (
        <div className="mt-2">
          <ErrorBanner error={remove.error ?? promote.error} />
        </div>
      )}
      {team.can_manage ? (
        <AddMember team={team} />
      ) : (
        <p className="mt-3 text-xs text-slate-500">
          Only the team's managers can add or remove members.
        </p>
      )}
    </Card>
  );
}

function AddMember({ team }: { team: Team }) {
  const [text, setText] = useState("");
  const [manager, setManager] = useState(false);
  const [added, setAdded] = useState<string | null>(null);
  const search = useUserSearch(text);
  const add = useAddMember(team.id);
  const current = new Set(team.members.map((m) => m.username));
  const options: Option[] = (search.data ?? [])
    .filter((u) => !current.has(u.username))
    .map((u) => ({ value: u.username, label: u.username, detail: fullName(u) }));

  function submit(event: FormEvent) {
    event.preventDefault();
    const username = text.trim();
    if (!username) return;
    setAdded(null);
    add.mutate(
      { username, is_manager: manager },
      {
        onSuccess: () => {
          setAdded(username);
          setText("");
          setManager(false);
        },
      },
    );
  }

  return (
    <form onSubmit={submit} className="mt-4 space-y-2 border-t border-slate-100 pt-4">
      <div className="flex flex-wrap items-end gap-3">
        <div className="min-w-56 flex-1">
          <Autocomplete
            inputId={`add-member-${team.id}`}
            label="Add a member"
            value={text}
            onChange={(value) => {
              setText(value);
              add.reset();
            }}
            options={options}
            onSelect={(option) => setText(option.value)}
            loading={search.isFetching}
            placeholder="Username or name"
          />
        </div>
        <label className="flex items-center gap-2 pb-2 text-sm text-slate-700">
          <input
            type="checkbox"
            className="h-4 w-4 accent-brand-600"
            checked={manager}
            onChange={(e) => setManager(e.target.checked)}
          />
          as manager
        </label>
        <Button type="submit" variant="primary" disabled={add.isPending || !text.trim()}>
          {add.isPending ? "Adding…" : "Add member"}
        </Button>
      </div>
      {add.isError && <ErrorBanner error={add.error} />}
      {added && (
        <Notice tone="success">
          {added} added to {team.name}.
        </Notice>
      )}
    </form>
  );
}
