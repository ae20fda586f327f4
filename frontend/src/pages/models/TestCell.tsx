// One "Test" button: POST /catalog/models/test sends one tiny request to the model
// and the answer, or the mapped error (model_unavailable, rate_limit, …), is shown.
import { useState } from "react";
import { api } from "../../lib/api";
import { Button, ErrorBanner } from "../common/ui";

type TestResult =
  | { ok: true; model: string; answer: string }
  | { ok: false; model: string; error: { type: string; message: string } };

export function TestCell({ model, label = "Test" }: { model: string; label?: string }) {
  const [result, setResult] = useState<TestResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<unknown>(null);
  const run = async () => {
    setBusy(true);
    setFailed(null);
    try {
      setResult(await api<TestResult>("/catalog/models/test", { method: "POST", body: { model } }));
    } catch (e) {
      setFailed(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="space-y-1">
      <Button
        onClick={() => void run()}
        disabled={busy}
        aria-label={label === "Test" ? `Test ${model}` : label}
      >
        {busy ? "Testing…" : label}
      </Button>
      {failed !== null && <ErrorBanner error={failed} />}
      {result && (
        <p
          role="status"
          data-testid="model-test-result"
          data-ok={result.ok ? "true" : "false"}
          className={
            result.ok
              ? "max-w-md break-words text-xs text-emerald-700"
              : "max-w-md break-words text-xs text-red-700"
          }
        >
          {result.ok
            ? `Answered: ${result.answer}`
            : `${result.error.type}: ${result.error.message}`}
        </p>
      )}
    </div>
  );
}
