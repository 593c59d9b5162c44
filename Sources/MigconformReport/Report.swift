// Render: results -> report files.
