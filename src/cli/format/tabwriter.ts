/**
 * Go text/tabwriter (elastic tabstops) as vendored by docker/cli: cells end at '\t'; a column is
 * a run of consecutive lines that have a cell at that index; a line with a single cell flushes.
 * Only the options docker uses are supported: left alignment, space padding, no flags.
 */
import { stringWidth } from './width';

interface Cell {
  text: string;
  width: number;
  htab: boolean;
}

export class TabWriter {
  private out = '';
  private lines: Cell[][] = [[]];
  private cellText = '';
  private widths: number[] = [];

  constructor(
    private readonly minwidth: number,
    private readonly tabwidth: number,
    private readonly padding: number,
    private readonly padchar = ' ',
  ) {}

  write(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === '\t' || ch === '\v' || ch === '\n' || ch === '\f') {
        this.cellText += text.slice(start, i);
        start = i + 1;
        const ncells = this.terminateCell(ch === '\t');
        if (ch === '\n' || ch === '\f') {
          this.lines.push([]);
          if (ch === '\f' || ncells === 1) this.flushLines();
        }
      }
    }
    this.cellText += text.slice(start);
  }

  /** Flushes buffered text and returns everything written so far. */
  flush(): string {
    if (this.cellText.length > 0) this.terminateCell(false);
    this.flushLines();
    const out = this.out;
    this.out = '';
    return out;
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1];
    line.push({ text: this.cellText, width: stringWidth(this.cellText), htab });
    this.cellText = '';
    return line.length;
  }

  private flushLines(): void {
    this.format(0, this.lines.length);
    this.lines = [[]];
    this.widths = [];
  }

  private pad(textw: number, cellw: number): void {
    if (this.padchar === '\t') {
      if (this.tabwidth === 0) return;
      const cw = Math.ceil(cellw / this.tabwidth) * this.tabwidth;
      this.out += '\t'.repeat(Math.ceil((cw - textw) / this.tabwidth));
      return;
    }
    this.out += this.padchar.repeat(Math.max(0, cellw - textw));
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i];
      line.forEach((c, j) => {
        if (c.text.length > 0) this.out += c.text;
        if (j < this.widths.length) this.pad(c.width, this.widths[j]);
      });
      if (i + 1 === this.lines.length) {
        this.out += this.cellText;
        this.cellText = '';
      } else {
        this.out += '\n';
      }
    }
  }

  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let i = line0; i < line1; i++) {
      if (column >= this.lines[i].length - 1) continue;
      this.writeLines(line0, i);
      line0 = i;
      let width = this.minwidth;
      for (; i < line1; i++) {
        const line = this.lines[i];
        if (column >= line.length - 1) break;
        const w = line[column].width + this.padding;
        if (w > width) width = w;
      }
      this.widths.push(width);
      this.format(line0, i);
      this.widths.pop();
      line0 = i;
    }
    this.writeLines(line0, line1);
  }
}
