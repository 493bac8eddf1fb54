/**
 * CPU and memory as Code Engine's valid pairs (src/domain/quantities.ts `CPU_MEMORY_PAIRS`):
 * picking a cpu offers only its memory sizes. A value outside the table (e.g. `4000M`, set
 * through the API) is shown as is. With `allowInherit`, an empty choice means "the job's value".
 */
import { CPU_MEMORY_PAIRS } from '../../../src/domain/quantities.js';
import { Field } from './Field.js';

export function ResourceFields(props: {
  cpu: string;
  memory: string;
  onChange: (cpu: string, memory: string) => void;
  allowInherit?: string | undefined;
}) {
  const pair = CPU_MEMORY_PAIRS.find((p) => p.cpu === props.cpu);
  const memories = pair ? [...pair.memory] : props.cpu ? [] : CPU_MEMORY_PAIRS.flatMap((p) => p.memory).filter((m, i, a) => a.indexOf(m) === i);
  if (props.memory && !memories.includes(props.memory)) memories.unshift(props.memory);
  return (
    <>
      <Field label="CPU (vCPU)">
        <select
          value={props.cpu}
          onChange={(e) => {
            const cpu = e.target.value;
            const p = CPU_MEMORY_PAIRS.find((x) => x.cpu === cpu);
            const memory = !p ? props.memory : p.memory.includes(props.memory) ? props.memory : (p.memory[1] ?? p.memory[0]!);
            props.onChange(cpu, cpu === '' && props.allowInherit !== undefined ? '' : memory);
          }}
        >
          {props.allowInherit !== undefined ? <option value="">{props.allowInherit}</option> : null}
          {!pair && props.cpu ? <option value={props.cpu}>{props.cpu}</option> : null}
          {CPU_MEMORY_PAIRS.map((p) => (
            <option key={p.cpu} value={p.cpu}>
              {p.cpu}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Memory" hint={pair ? `for ${pair.cpu} vCPU: ${pair.memory.join(', ')}` : undefined}>
        <select value={props.memory} onChange={(e) => props.onChange(props.cpu, e.target.value)}>
          {props.allowInherit !== undefined ? <option value="">{props.allowInherit}</option> : null}
          {memories.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </Field>
    </>
  );
}
