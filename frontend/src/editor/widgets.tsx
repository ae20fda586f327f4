// rjsf widgets: text with an insert-reference menu, and a model picker.
import type { RegistryWidgetsType, WidgetProps } from "@rjsf/utils";
import { useRef } from "react";

export interface ReferenceOption {
  value: string;
  label: string;
  group: string;
}

export interface FormContext {
  references: ReferenceOption[];
  models: string[];
}

const inputClass =
  "block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-1 focus:ring-brand-500 disabled:bg-slate-50 disabled:text-slate-500";

export function ReferenceMenu({
  options,
  onPick,
  label,
  disabled,
}: {
  options: ReferenceOption[];
  onPick: (value: string) => void;
  label: string;
  disabled?: boolean;
}) {
  const groups = [...new Set(options.map((o) => o.group))];
  return (
    <select
      aria-label={label}
      className="mt-1 w-full rounded-md border border-slate-300 bg-slate-50 px-2 py-1 text-xs text-slate-700 focus-visible:outline-2 focus-visible:outline-brand-500"
      value=""
      disabled={disabled || options.length === 0}
      onChange={(e) => e.target.value && onPick(e.target.value)}
    >
      <option value="">{options.length ? "Insert reference…" : "No references available"}</option>
      {groups.map((g) => (
        <optgroup key={g} label={g}>
          {options
            .filter((o) => o.group === g)
            .map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
        </optgroup>
      ))}
    </select>
  );
}

function RefTextWidget(props: WidgetProps) {
  const { id, value, onChange, onBlur, onFocus, disabled, readonly, registry, label, placeholder } =
    props;
  const context = registry.formContext as FormContext | undefined;
  const area = useRef<HTMLTextAreaElement>(null);
  const text = typeof value === "string" ? value : value == null ? "" : JSON.stringify(value);
  const insert = (ref: string) => {
    const el = area.current;
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? text.length;
    const next = text.slice(0, start) + ref + text.slice(end);
    onChange(next);
    requestAnimationFrame(() => {
      if (!el) return;
      el.focus();
      el.setSelectionRange(start + ref.length, start + ref.length);
    });
  };
  return (
    <div>
      <textarea
        ref={area}
        id={id}
        rows={text.length > 60 ? 4 : 2}
        className={`${inputClass} font-mono text-xs`}
        value={text}
        placeholder={placeholder}
        disabled={disabled || readonly}
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
        onBlur={(e) => onBlur(id, e.target.value)}
        onFocus={(e) => onFocus(id, e.target.value)}
      />
      {!(disabled || readonly) && (
        <ReferenceMenu
          options={context?.references ?? []}
          onPick={insert}
          label={`Insert reference into ${label || id}`}
        />
      )}
    </div>
  );
}

function ModelWidget(props: WidgetProps) {
  const { id, value, onChange, onBlur, onFocus, disabled, readonly, registry } = props;
  const context = registry.formContext as FormContext | undefined;
  return (
    <>
      <input
        id={id}
        list={`${id}-models`}
        className={inputClass}
        value={typeof value === "string" ? value : ""}
        disabled={disabled || readonly}
        placeholder="Choose or type a model"
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
        onBlur={(e) => onBlur(id, e.target.value)}
        onFocus={(e) => onFocus(id, e.target.value)}
      />
      <datalist id={`${id}-models`}>
        {(context?.models ?? []).map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>
    </>
  );
}

export const widgets: RegistryWidgetsType = { refText: RefTextWidget, model: ModelWidget };
