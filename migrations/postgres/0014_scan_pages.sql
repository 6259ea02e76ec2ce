-- A PDF scan's pages rendered to PNG for the review page (poppler's pdftoppm), once per scan:
-- keyed by the scan's hash, each image in the scan store under its own hash (`png_sha256`). An
-- image is kept while an application references its scan; the orphan sweep takes it after. A
-- PDF that cannot be rendered has one row, page 0, saying why (`refused`), so it is not tried
-- again on every view.
create table scan_pages (
    scan_sha256 text not null,
    page        bigint not null,
    png_sha256  text,
    refused     text,
    primary key (scan_sha256, page)
);
create index scan_pages_png on scan_pages (png_sha256);
