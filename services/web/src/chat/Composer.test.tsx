// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { modelLabel } from './ChatSettings.js';
import { Composer } from './Composer.js';

afterEach(cleanup);

const png = () => new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'shot.png', { type: 'image/png' });
const text = () => new File(['hello'], 'notes.txt', { type: 'text/plain' });

function composer(onAddImages?: (files: File[]) => void) {
  return render(
    <Composer
      value="hi"
      onChange={() => undefined}
      onSend={() => undefined}
      onStop={() => undefined}
      streaming={false}
      onAddImages={onAddImages}
    />,
  );
}

describe('the composer’s image attachments', () => {
  it('takes pasted and dropped images (and only images) when the model sees images', () => {
    const added: string[][] = [];
    composer((files) => added.push(files.map((f) => f.name)));
    const box = screen.getByLabelText('Message');
    fireEvent.paste(box, { clipboardData: { files: [png(), text()] } });
    fireEvent.drop(box.closest('form')!, { dataTransfer: { files: [text(), png()] } });
    expect(added).toEqual([['shot.png'], ['shot.png']]);
    expect(screen.getByRole('button', { name: 'Attach images' })).toBeTruthy();
  });

  it('leaves a paste of text alone, and offers no attaching for a model without vision', () => {
    const onAdd = vi.fn();
    composer(onAdd);
    fireEvent.paste(screen.getByLabelText('Message'), { clipboardData: { files: [] } });
    expect(onAdd).not.toHaveBeenCalled();
    cleanup();
    composer(undefined);
    expect(screen.queryByRole('button', { name: 'Attach images' })).toBeNull();
  });

  it('the model picker names what a model can do besides text', () => {
    expect(modelLabel({ id: 'llava:latest', capabilities: ['completion', 'vision'] })).toBe(
      'llava:latest (images)',
    );
    expect(modelLabel({ id: 'qwen3:latest', capabilities: ['completion', 'tools', 'thinking'] })).toBe(
      'qwen3:latest (tools, thinking)',
    );
    expect(modelLabel({ id: 'llama3.2:latest', capabilities: ['completion'] })).toBe('llama3.2:latest');
  });
});
