//! Code listings at column 0. mdBook's `{{#include file:anchor}}` keeps the source's
//! indentation, so a listing cut from inside `main` or an `async` block starts 4 or 8
//! spaces in, and its long lines run past the edge of the page. This preprocessor runs after
//! mdBook's own (which resolve the includes) and removes, from each Rust code block, the
//! indentation all its lines share beyond the fence's own (a block inside a list item keeps
//! the item's indentation).

use mdbook::BookItem;
use mdbook::book::Book;
use mdbook::errors::Result;
use mdbook::preprocess::{Preprocessor, PreprocessorContext};

pub struct ListingsAtColumnZero;

impl Preprocessor for ListingsAtColumnZero {
    fn name(&self) -> &str {
        "listings-at-column-zero"
    }

    fn run(&self, _context: &PreprocessorContext, mut book: Book) -> Result<Book> {
        book.for_each_mut(|item| {
            if let BookItem::Chapter(chapter) = item {
                chapter.content = dedent_rust_blocks(&chapter.content);
            }
        });
        Ok(book)
    }
}

/// `markdown` with every Rust code block's shared indentation removed.
pub fn dedent_rust_blocks(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut lines = markdown.split_inclusive('\n');
    while let Some(line) = lines.next() {
        out.push_str(line);
        let Some((fence_indent, fence)) = opening_fence(line) else {
            continue;
        };
        let is_rust = line.trim_start()[fence.len()..]
            .trim_start()
            .starts_with("rust");
        let mut body = Vec::new();
        let mut closing = None;
        for line in lines.by_ref() {
            if line.trim() == fence {
                closing = Some(line);
                break;
            }
            body.push(line);
        }
        let shared = body
            .iter()
            .filter(|line| !line.trim().is_empty())
            .map(|line| indentation(line))
            .min()
            .unwrap_or(0);
        let removed = if is_rust {
            shared.saturating_sub(fence_indent)
        } else {
            0
        };
        for line in body {
            // A blank line may be shorter than the indentation removed.
            out.push_str(line.get(removed.min(indentation(line))..).unwrap_or(line));
        }
        out.push_str(closing.unwrap_or(""));
    }
    out
}

/// The indentation and the backticks of a line that opens a fenced code block.
fn opening_fence(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
    (ticks >= 3).then(|| (indentation(line), &trimmed[..ticks]))
}

/// How many spaces a line starts with.
fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_listing_moves_to_column_zero_keeping_its_inner_indentation() {
        let markdown = "Text\n\n```rust,ignore\n        for x in y {\n\n            go(x);\n        }\n```\n\nMore\n";
        assert_eq!(
            dedent_rust_blocks(markdown),
            "Text\n\n```rust,ignore\nfor x in y {\n\n    go(x);\n}\n```\n\nMore\n"
        );
    }

    #[test]
    fn a_listing_in_a_list_item_keeps_the_items_indentation() {
        let markdown = "- item\n\n  ```rust\n      let a = 1;\n  ```\n";
        assert_eq!(
            dedent_rust_blocks(markdown),
            "- item\n\n  ```rust\n  let a = 1;\n  ```\n"
        );
    }

    #[test]
    fn other_blocks_and_text_are_left_alone() {
        let markdown = "    indented text\n```text\n    output\n```\n```sh\n  cargo run\n```\n";
        assert_eq!(dedent_rust_blocks(markdown), markdown);
    }

    #[test]
    fn an_unclosed_block_keeps_its_lines() {
        let markdown = "```rust\n    let a = 1;\n";
        assert_eq!(dedent_rust_blocks(markdown), "```rust\nlet a = 1;\n");
    }
}
