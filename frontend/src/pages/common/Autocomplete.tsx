// An accessible combobox (WAI-ARIA 1.2 list autocomplete): type to filter,
// arrows to move, Enter to pick, Escape to close. The parent supplies the options.
import clsx from "clsx";
import { useId, useState, type KeyboardEvent } from "react";
import { inputClass, labelClass } from "./ui";

export interface Option {
  value: string;
  label: string;
  detail?: string;
}

export function Autocomplete({
  label,
  value,
  onChange,
  options,
  onSelect,
  placeholder,
  hint,
  loading = false,
  disabled = false,
  inputId,
}: {
  label: string;
  value: string;
  onChange: (text: string) => void;
  options: Option[];
  onSelect: (option: Option) => void;
  placeholder?: string;
  hint?: string;
  loading?: boolean;
  disabled?: boolean;
  inputId?: string;
}) {
  const autoId = useId();
  const id = inputId ?? `ac-${autoId}`;
  const listId = `${id}-list`;
  const hintId = `${id}-hint`;
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const showList = open && value.trim().length > 0 && (options.length > 0 || !loading);

  function pick(option: Option) {
    onSelect(option);
    setOpen(false);
    setActive(-1);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      setOpen(true);
      setActive((i) => (options.length ? (i + 1) % options.length : -1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      setActive((i) => (options.length ? (i <= 0 ? options.length - 1 : i - 1) : -1));
    } else if (event.key === "Enter" && open && active >= 0 && options[active]) {
      event.preventDefault();
      pick(options[active]);
    } else if (event.key === "Escape") {
      setOpen(false);
      setActive(-1);
    }
  }

  return (
    <div className="relative">
      <label htmlFor={id} className={labelClass}>
        {label}
      </label>
      <input
        id={id}
        type="text"
        role="combobox"
        autoComplete="off"
        aria-autocomplete="list"
        aria-expanded={showList}
        aria-controls={listId}
        aria-describedby={hint ? hintId : undefined}
        aria-activedescendant={showList && active >= 0 ? `${listId}-${active}` : undefined}
        className={clsx(inputClass, "mt-1")}
        value={value}
        placeholder={placeholder}
        disabled={disabled}
        onChange={(e) => {
          onChange(e.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      {hint && (
        <p id={hintId} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      )}
      <ul
        id={listId}
        role="listbox"
        aria-label={`${label} suggestions`}
        hidden={!showList}
        className="absolute z-20 mt-1 max-h-64 w-full overflow-auto rounded-md border border-slate-200 bg-white py-1 text-sm shadow-lg"
      >
        {options.map((option, index) => (
          <li
            key={option.value}
            id={`${listId}-${index}`}
            role="option"
            aria-selected={index === active}
            className={clsx(
              "flex cursor-pointer items-baseline justify-between gap-3 px-3 py-1.5",
              index === active ? "bg-brand-50 text-brand-700" : "hover:bg-slate-50",
            )}
            onMouseDown={(e) => e.preventDefault()}
            onMouseEnter={() => setActive(index)}
            onClick={() => pick(option)}
          >
            <span className="font-medium">{option.label}</span>
            {option.detail && (
              <span className="truncate text-xs text-slate-500">{option.detail}</span>
            )}
          </li>
        ))}
        {options.length === 0 && !loading && (
          <li className="px-3 py-1.5 text-slate-500" role="presentation">
            {value.trim().length < 2 ? "Type at least 2 characters" : "No matches"}
          </li>
        )}
      </ul>
    </div>
  );
}
