/**
 * The contact form's personnummer field, which the server renders whenever
 * some topic asks for one (its hint names those topics). Here it is shown
 * only while such a topic is chosen; hidden, its input is disabled so that
 * nothing typed in it is sent with a topic that does not ask for it. A field
 * that came back with an error stays in view until the topic changes.
 */
export function startPersonnummerField(container: HTMLElement): void {
  const form = container.closest('form');
  const input = container.querySelector<HTMLInputElement>('input[name="personnummer"]');
  if (!form || !input) return;
  const asking = new Set((container.dataset.topics ?? '').split(/\s+/).filter(Boolean));
  const chosen = () => form.querySelector<HTMLInputElement>('input[name="category"]:checked')?.value ?? '';

  const show = (visible: boolean) => {
    container.hidden = !visible;
    input.disabled = !visible;
  };

  const topic = chosen();
  show(asking.has(topic) || input.getAttribute('aria-invalid') === 'true' || (!topic && input.value.trim() !== ''));
  form.addEventListener('change', (e) => {
    const target = e.target as HTMLInputElement | null;
    if (target?.name === 'category') show(asking.has(target.value));
  });
}
