import "@testing-library/jest-dom/vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Autocomplete, type Option } from "./Autocomplete";

const OPTIONS: Option[] = [
  { value: "bob", label: "bob", detail: "Bob Builder" },
  { value: "team:lab", label: "team:lab", detail: "Team · 2 members" },
];

function Harness({ onSelect }: { onSelect: (o: Option) => void }) {
  const [text, setText] = useState("");
  return (
    <Autocomplete
      label="Person or team"
      value={text}
      onChange={setText}
      options={text ? OPTIONS : []}
      onSelect={(o) => {
        setText(o.value);
        onSelect(o);
      }}
    />
  );
}

afterEach(cleanup);

describe("Autocomplete", () => {
  it("opens on typing and picks with the keyboard", () => {
    const picked = vi.fn();
    render(<Harness onSelect={picked} />);
    const input = screen.getByRole("combobox", { name: "Person or team" });
    fireEvent.change(input, { target: { value: "b" } });
    expect(input).toHaveAttribute("aria-expanded", "true");
    fireEvent.keyDown(input, { key: "ArrowDown" });
    fireEvent.keyDown(input, { key: "ArrowDown" });
    expect(input.getAttribute("aria-activedescendant")).toMatch(/-1$/);
    fireEvent.keyDown(input, { key: "Enter" });
    expect(picked).toHaveBeenCalledWith(OPTIONS[1]);
    expect(input).toHaveValue("team:lab");
    expect(input).toHaveAttribute("aria-expanded", "false");
  });

  it("closes on Escape and picks with the mouse", () => {
    const picked = vi.fn();
    render(<Harness onSelect={picked} />);
    const input = screen.getByRole("combobox");
    fireEvent.change(input, { target: { value: "bo" } });
    fireEvent.keyDown(input, { key: "Escape" });
    expect(input).toHaveAttribute("aria-expanded", "false");
    fireEvent.change(input, { target: { value: "bob" } });
    fireEvent.click(screen.getByRole("option", { name: /bob/ }));
    expect(picked).toHaveBeenCalledWith(OPTIONS[0]);
  });
});
