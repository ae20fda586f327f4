// /models/ (#models-root {isStaff}): the models the caller's steps may name
// (GET /catalog/models), what each does, and a Test button per model that sends one
// tiny request (POST /catalog/models/test) and shows the answer or the mapped error;
// above them, the form that adds and edits OpenAI-compatible endpoints.
import { useQuery } from "@tanstack/react-query";
import type { CatalogModel } from "../../dag/types";
import { api } from "../../lib/api";
import { EmptyState, ErrorBanner, Loading } from "../common/ui";
import { EndpointsSection } from "./EndpointsSection";
import { TestCell } from "./TestCell";

interface ModelRow extends CatalogModel {
  unavailable_reason?: string | null;
}

export function ModelsPage({ isStaff }: { isStaff?: boolean }) {
  const models = useQuery({
    queryKey: ["catalog-models"],
    // Revalidated, not the browser's minute-long copy: the endpoint form changes it.
    queryFn: () => api<ModelRow[]>("/catalog/models", { cache: "no-cache" }),
  });
  if (models.isPending) return <Loading label="Loading the models…" />;
  if (models.isError) return <ErrorBanner error={models.error} />;
  const rows = models.data;
  return (
    <div className="space-y-4">
      <EndpointsSection isStaff={Boolean(isStaff)} />
      <section
        className="overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm"
        data-testid="models"
      >
        {rows.length === 0 ? (
          <EmptyState title="No models" />
        ) : (
          <table className="w-full text-left text-sm">
            <thead className="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th scope="col" className="px-4 py-2 font-medium">
                  Model
                </th>
                <th scope="col" className="px-4 py-2 font-medium">
                  What it does
                </th>
                <th scope="col" className="px-4 py-2 font-medium">
                  Price per 1k tokens (in / out)
                </th>
                <th scope="col" className="px-4 py-2 font-medium">
                  Check
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {rows.map((m) => (
                <tr key={m.name} data-testid="model-row" data-name={m.name} className="align-top">
                  <th scope="row" className="px-4 py-3 font-medium text-slate-900">
                    <code className="text-sm">{m.name}</code>
                    <span className="mt-0.5 block text-xs font-normal text-slate-500">
                      {m.provider}
                      {m.team ? ` · team ${m.team}` : " · shared"}
                    </span>
                    {!m.available && (
                      <span className="mt-0.5 block text-xs font-normal text-red-700">
                        Unavailable{m.unavailable_reason ? `: ${m.unavailable_reason}` : ""}
                      </span>
                    )}
                  </th>
                  <td className="max-w-xl px-4 py-3 text-slate-700">{m.description || "—"}</td>
                  <td className="px-4 py-3 tabular-nums text-slate-700">
                    ${m.input_price_per_1k} / ${m.output_price_per_1k}
                  </td>
                  <td className="px-4 py-3">
                    <TestCell model={m.name} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
