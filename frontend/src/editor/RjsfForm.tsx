// react-jsonschema-form with the editor's widgets: loaded lazily (with ajv),
// so the canvas becomes interactive before the forms' code is parsed.
import Form from "@rjsf/core";
import type { IChangeEvent } from "@rjsf/core";
import type { ErrorSchema, RJSFSchema, UiSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { widgets, type FormContext } from "./widgets";

export interface SchemaFormProps {
  schema: Record<string, unknown>;
  uiSchema?: UiSchema;
  formData: unknown;
  formContext?: FormContext;
  extraErrors?: ErrorSchema;
  disabled?: boolean;
  idPrefix: string;
  onChange: (data: Record<string, unknown>) => void;
}

export default function SchemaForm(props: SchemaFormProps) {
  return (
    <Form
      schema={props.schema as RJSFSchema}
      uiSchema={{ "ui:submitButtonOptions": { norender: true }, ...(props.uiSchema ?? {}) }}
      formData={props.formData}
      validator={validator}
      widgets={widgets}
      formContext={props.formContext}
      onChange={(event: IChangeEvent) =>
        props.onChange((event.formData ?? {}) as Record<string, unknown>)
      }
      extraErrors={props.extraErrors}
      disabled={props.disabled}
      showErrorList={false}
      noHtml5Validate
      idPrefix={props.idPrefix}
    />
  );
}
